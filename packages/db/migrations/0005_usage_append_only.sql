-- A usage row is the final record of a charge, and an admission row the record of a hold: never
-- edited or removed.
CREATE TRIGGER usage_records_append_only
  BEFORE UPDATE OR DELETE ON usage_records
  FOR EACH ROW EXECUTE FUNCTION tokenwise_refuse_change();
--> statement-breakpoint
CREATE TRIGGER usage_records_no_truncate
  BEFORE TRUNCATE ON usage_records
  FOR EACH STATEMENT EXECUTE FUNCTION tokenwise_refuse_change();
--> statement-breakpoint
CREATE TRIGGER gateway_requests_append_only
  BEFORE UPDATE OR DELETE ON gateway_requests
  FOR EACH ROW EXECUTE FUNCTION tokenwise_refuse_change();
--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON usage_records, gateway_requests FROM PUBLIC;
