ALTER TABLE "usage_records" ADD COLUMN "session_id" text;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "experiment_key" text;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "variant_key" text;--> statement-breakpoint
CREATE INDEX "usage_records_session_idx" ON "usage_records" USING btree ("org_id","session_id") WHERE "usage_records"."session_id" is not null;--> statement-breakpoint
CREATE INDEX "usage_records_experiment_idx" ON "usage_records" USING btree ("org_id","experiment_key","variant_key","created_at") WHERE "usage_records"."experiment_key" is not null;