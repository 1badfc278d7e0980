CREATE TABLE "slack_deliveries" (
	"notification_id" bigint PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"kind" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"leased_until" timestamp with time zone,
	"lease_owner" text,
	"last_error" text,
	"channel" text,
	"ts" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "slack_deliveries_state" CHECK ("slack_deliveries"."state" in ('pending', 'sent', 'muted', 'no_slack_user', 'no_recipient', 'failed')),
	CONSTRAINT "slack_deliveries_attempts_non_negative" CHECK ("slack_deliveries"."attempts" >= 0)
);
--> statement-breakpoint
CREATE TABLE "slack_raise_messages" (
	"raise_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"shown_state" text DEFAULT 'pending' NOT NULL,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	CONSTRAINT "slack_raise_messages_raise_id_user_id_pk" PRIMARY KEY("raise_id","user_id"),
	CONSTRAINT "slack_raise_messages_shown_state" CHECK ("slack_raise_messages"."shown_state" in ('pending', 'approved', 'denied'))
);
--> statement-breakpoint
CREATE TABLE "slack_user_states" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"settlements_muted" boolean DEFAULT false NOT NULL,
	"last_digest_at" timestamp with time zone,
	"digest_leased_until" timestamp with time zone,
	"digest_lease_owner" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "slack_deliveries" ADD CONSTRAINT "slack_deliveries_notification_id_notifications_id_fk" FOREIGN KEY ("notification_id") REFERENCES "public"."notifications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slack_raise_messages" ADD CONSTRAINT "slack_raise_messages_raise_id_carbon_raises_id_fk" FOREIGN KEY ("raise_id") REFERENCES "public"."carbon_raises"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slack_user_states" ADD CONSTRAINT "slack_user_states_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "slack_deliveries_due_idx" ON "slack_deliveries" USING btree ("org_id","next_attempt_at") WHERE "slack_deliveries"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "slack_deliveries_user_pending_idx" ON "slack_deliveries" USING btree ("user_id","kind") WHERE "slack_deliveries"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "slack_raise_messages_stale_idx" ON "slack_raise_messages" USING btree ("raise_id") WHERE "slack_raise_messages"."shown_state" = 'pending';--> statement-breakpoint
CREATE INDEX "slack_user_states_org_idx" ON "slack_user_states" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "notifications_undelivered_org_idx" ON "notifications" USING btree ("org_id","id") WHERE "notifications"."delivered_at" is null;