-- The journal and its HMAC chain are append-only. The trigger stops the application and any
-- ordinary role; a superuser can bypass it, which is why `tokenwise ledger verify` checks rows
-- against an HMAC chain whose key the database never holds.
CREATE TRIGGER ledger_transfers_append_only
  BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION tokenwise_refuse_change();
--> statement-breakpoint
CREATE TRIGGER ledger_transfers_no_truncate
  BEFORE TRUNCATE ON ledger_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION tokenwise_refuse_change();
--> statement-breakpoint
CREATE TRIGGER ledger_batches_append_only
  BEFORE UPDATE OR DELETE ON ledger_batches
  FOR EACH ROW EXECUTE FUNCTION tokenwise_refuse_change();
--> statement-breakpoint
CREATE TRIGGER ledger_batches_no_truncate
  BEFORE TRUNCATE ON ledger_batches
  FOR EACH STATEMENT EXECUTE FUNCTION tokenwise_refuse_change();
--> statement-breakpoint
-- Privileges too: no role other than the owner may even attempt to change the journal.
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_transfers, ledger_batches, audit_log FROM PUBLIC;
