CREATE TABLE "clusters" (
	"name" text PRIMARY KEY NOT NULL,
	"definition" jsonb NOT NULL,
	"region" text NOT NULL,
	"grid_intensity_g_co2e_per_kwh" double precision NOT NULL,
	"pue" double precision,
	"carbon_set_by" text,
	"carbon_set_at" timestamp with time zone,
	"disabled_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"registered_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"health" jsonb,
	"health_reported_at" timestamp with time zone,
	CONSTRAINT "clusters_grid_intensity_range" CHECK ("clusters"."grid_intensity_g_co2e_per_kwh" >= 0 and "clusters"."grid_intensity_g_co2e_per_kwh" <= 2000),
	CONSTRAINT "clusters_pue_range" CHECK ("clusters"."pue" is null or ("clusters"."pue" >= 1 and "clusters"."pue" <= 3)),
	CONSTRAINT "clusters_region_present" CHECK (length("clusters"."region") between 1 and 64),
	CONSTRAINT "clusters_version_positive" CHECK ("clusters"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "platform" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "price_lists" ADD COLUMN "org_id" uuid;--> statement-breakpoint
ALTER TABLE "price_lists" ADD CONSTRAINT "price_lists_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "orgs_one_platform_key" ON "orgs" USING btree ("platform") WHERE "orgs"."platform";--> statement-breakpoint
CREATE INDEX "price_lists_org_version_idx" ON "price_lists" USING btree ("org_id","version");