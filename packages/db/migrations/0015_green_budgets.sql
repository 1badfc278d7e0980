CREATE TABLE "carbon_caps" (
	"org_id" uuid NOT NULL,
	"scope" text NOT NULL,
	"scope_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"period" text NOT NULL,
	"hard_micrograms" bigint,
	"soft_percent" integer,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "carbon_caps_scope_scope_id_version_pk" PRIMARY KEY("scope","scope_id","version"),
	CONSTRAINT "carbon_caps_scope" CHECK ("carbon_caps"."scope" in ('org', 'team', 'user')),
	CONSTRAINT "carbon_caps_period" CHECK ("carbon_caps"."period" in ('month', 'quarter')),
	CONSTRAINT "carbon_caps_hard_non_negative" CHECK ("carbon_caps"."hard_micrograms" is null or "carbon_caps"."hard_micrograms" >= 0),
	CONSTRAINT "carbon_caps_soft_percent" CHECK ("carbon_caps"."soft_percent" is null or "carbon_caps"."soft_percent" between 1 and 100),
	CONSTRAINT "carbon_caps_version_positive" CHECK ("carbon_caps"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "carbon_raises" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"scope" text NOT NULL,
	"scope_id" uuid NOT NULL,
	"requested_by" uuid NOT NULL,
	"requested_micrograms" bigint NOT NULL,
	"reason" text NOT NULL,
	"until" date,
	"state" text DEFAULT 'pending' NOT NULL,
	"deadline_at" timestamp with time zone NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"granted_micrograms" bigint,
	"granted_period" text,
	"note" text,
	"ended_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "carbon_raises_scope" CHECK ("carbon_raises"."scope" in ('org', 'team', 'user')),
	CONSTRAINT "carbon_raises_state" CHECK ("carbon_raises"."state" in ('pending', 'approved', 'denied')),
	CONSTRAINT "carbon_raises_requested_positive" CHECK ("carbon_raises"."requested_micrograms" > 0),
	CONSTRAINT "carbon_raises_granted_within_request" CHECK ("carbon_raises"."granted_micrograms" is null or ("carbon_raises"."granted_micrograms" >= 0 and "carbon_raises"."granted_micrograms" <= "carbon_raises"."requested_micrograms")),
	CONSTRAINT "carbon_raises_reason_length" CHECK (length("carbon_raises"."reason") between 1 and 1000)
);
--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "carbon_aware_routing" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "operational_co2e_micrograms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "embodied_co2e_micrograms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "market_co2e_micrograms" bigint;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "carbon_methodology" text DEFAULT 'ecologits-0.11.3-operational-only' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "carbon_assumed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
ALTER TABLE "clusters" ADD COLUMN "grid_intensity_source" text;--> statement-breakpoint
ALTER TABLE "clusters" ADD COLUMN "market_grid_intensity_g_co2e_per_kwh" double precision;--> statement-breakpoint
ALTER TABLE "clusters" ADD COLUMN "ownership" text DEFAULT 'owned' NOT NULL;--> statement-breakpoint
ALTER TABLE "carbon_caps" ADD CONSTRAINT "carbon_caps_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "carbon_raises" ADD CONSTRAINT "carbon_raises_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "carbon_caps_org_idx" ON "carbon_caps" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "carbon_raises_org_state_idx" ON "carbon_raises" USING btree ("org_id","state","created_at");--> statement-breakpoint
CREATE INDEX "usage_records_org_idx" ON "usage_records" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_dedupe_key" ON "notifications" USING btree ("dedupe_key") WHERE "notifications"."dedupe_key" is not null;--> statement-breakpoint
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_ownership" CHECK ("clusters"."ownership" in ('owned', 'rented'));--> statement-breakpoint
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_market_intensity_range" CHECK ("clusters"."market_grid_intensity_g_co2e_per_kwh" is null or ("clusters"."market_grid_intensity_g_co2e_per_kwh" >= 0 and "clusters"."market_grid_intensity_g_co2e_per_kwh" <= 2000));--> statement-breakpoint
UPDATE "usage_records" SET "operational_co2e_micrograms" = "co2e_micrograms";