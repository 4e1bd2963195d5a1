// Tables of issue 13's receipts (filled this session; see migrations/002*_receipts.sql).
export {};
