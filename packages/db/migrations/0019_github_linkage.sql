CREATE TABLE "github_accounts" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"login" text NOT NULL,
	"github_user_id" bigint,
	"proven_via" text NOT NULL,
	"linked_by" text NOT NULL,
	"linked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "github_accounts_proven_via" CHECK ("github_accounts"."proven_via" in ('device_flow', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "github_evidence" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"delivery_id" text NOT NULL,
	"kind" text NOT NULL,
	"repository_full_name" text NOT NULL,
	"repository_key" text NOT NULL,
	"pull_number" integer,
	"base_ref" text NOT NULL,
	"merge_commit_sha" text,
	"author_login" text,
	"merged_by_login" text,
	"merged_at" timestamp with time zone,
	"commits" jsonb NOT NULL,
	"request_ids" text[] NOT NULL,
	"session_ids" text[] NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "github_evidence_kind" CHECK ("github_evidence"."kind" in ('pull_request', 'push'))
);
--> statement-breakpoint
CREATE TABLE "github_link_attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"device_code" text NOT NULL,
	"user_code" text NOT NULL,
	"verification_uri" text NOT NULL,
	"interval_seconds" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"next_poll_at" timestamp with time zone NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"outcome" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "github_link_attempts_state" CHECK ("github_link_attempts"."state" in ('pending', 'linked', 'denied', 'expired', 'failed')),
	CONSTRAINT "github_link_attempts_interval_positive" CHECK ("github_link_attempts"."interval_seconds" > 0)
);
--> statement-breakpoint
CREATE TABLE "github_webhook_deliveries" (
	"delivery_id" text PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"action" text,
	"outcome" text NOT NULL,
	"reason" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "github_webhook_deliveries_outcome" CHECK ("github_webhook_deliveries"."outcome" in ('evidence', 'ping', 'ignored'))
);
--> statement-breakpoint
ALTER TABLE "github_accounts" ADD CONSTRAINT "github_accounts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "github_accounts" ADD CONSTRAINT "github_accounts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "github_evidence" ADD CONSTRAINT "github_evidence_delivery_id_github_webhook_deliveries_delivery_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."github_webhook_deliveries"("delivery_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "github_link_attempts" ADD CONSTRAINT "github_link_attempts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "github_link_attempts" ADD CONSTRAINT "github_link_attempts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "github_accounts_org_login_key" ON "github_accounts" USING btree ("org_id",lower("login"));--> statement-breakpoint
CREATE UNIQUE INDEX "github_evidence_delivery_key" ON "github_evidence" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "github_evidence_repository_idx" ON "github_evidence" USING btree ("repository_key","received_at");--> statement-breakpoint
CREATE INDEX "github_evidence_request_ids_idx" ON "github_evidence" USING gin ("request_ids");--> statement-breakpoint
CREATE INDEX "github_evidence_session_ids_idx" ON "github_evidence" USING gin ("session_ids");--> statement-breakpoint
CREATE INDEX "github_link_attempts_user_idx" ON "github_link_attempts" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "github_webhook_deliveries_received_idx" ON "github_webhook_deliveries" USING btree ("received_at");