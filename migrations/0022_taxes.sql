-- Placeholder: filled in this session (see the journal); a no-op until then.
SELECT 1;
