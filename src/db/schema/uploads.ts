// Tables of issue 13's uploads (filled this session; see migrations/002*_uploads.sql).
export {};
