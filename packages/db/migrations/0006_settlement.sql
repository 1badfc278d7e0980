CREATE TABLE "notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "scoring_configs" (
	"team_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"plugins" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scoring_configs_team_id_version_pk" PRIMARY KEY("team_id","version")
);
--> statement-breakpoint
CREATE TABLE "settlement_bounds" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"body" jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settlement_policies" (
	"team_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "settlement_policies_team_id_version_pk" PRIMARY KEY("team_id","version")
);
--> statement-breakpoint
CREATE TABLE "settlements" (
	"request_id" text PRIMARY KEY NOT NULL,
	"score" double precision,
	"confidence" double precision NOT NULL,
	"policy_version" integer,
	"refund" bigint NOT NULL,
	"refund_currency" text NOT NULL,
	"reward" bigint NOT NULL,
	"reward_currency" text,
	"results" jsonb NOT NULL,
	"reason" text NOT NULL,
	"settled_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "scoring_configs" ADD CONSTRAINT "scoring_configs_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_bounds" ADD CONSTRAINT "settlement_bounds_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_policies" ADD CONSTRAINT "settlement_policies_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notifications_pending_idx" ON "notifications" USING btree ("id");