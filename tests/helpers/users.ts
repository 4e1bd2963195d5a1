import { api, uniqueEmail } from "./http.ts";

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: "buyer" | "seller" | "admin";
  accessToken: string;
  refreshToken: string;
}

interface AuthResult {
  user: { id: string; email: string; role: TestUser["role"] };
  session: { accessToken: string; refreshToken: string };
}

/** Registers a fresh user through the real API and returns its tokens. */
export async function registerUser(role: "buyer" | "seller" = "buyer"): Promise<TestUser> {
  const email = uniqueEmail(role);
  const password = "correct horse battery staple";
  const res = await api<AuthResult>("POST", "/v1/auth/register", {
    body: { email, password, displayName: `Test ${role}`, role },
  });
  if (res.status !== 201)
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    email,
    password,
    role,
    accessToken: res.body.session.accessToken,
    refreshToken: res.body.session.refreshToken,
  };
}
