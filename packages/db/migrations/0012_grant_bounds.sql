CREATE TABLE "grant_bounds" (
	"org_id" uuid NOT NULL,
	"currency" text NOT NULL,
	"grant_amount_max" bigint NOT NULL,
	"monthly_issuance_max" bigint NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "grant_bounds_org_id_currency_pk" PRIMARY KEY("org_id","currency"),
	CONSTRAINT "grant_bounds_positive" CHECK ("grant_bounds"."grant_amount_max" > 0 and "grant_bounds"."monthly_issuance_max" > 0)
);
--> statement-breakpoint
ALTER TABLE "grant_bounds" ADD CONSTRAINT "grant_bounds_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;