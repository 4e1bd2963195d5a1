type SoukEnv = import("../src/env.ts").Env;
type SoukMain = typeof import("../src/index.ts");

declare namespace Cloudflare {
  interface Env extends SoukEnv {}
  interface GlobalProps {
    mainModule: SoukMain;
    durableNamespaces: "ProductStock" | "AuctionRoom" | "DeliverySlots";
  }
}

declare module "*?raw" {
  const text: string;
  export default text;
}
