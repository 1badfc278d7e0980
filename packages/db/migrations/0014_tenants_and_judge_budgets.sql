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
CREATE TABLE "judge_budgets" (
	"org_id" uuid NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "judge_budgets_org_id_currency_pk" PRIMARY KEY("org_id","currency"),
	CONSTRAINT "judge_budgets_amount_positive" CHECK ("judge_budgets"."amount" > 0)
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "minted_for" text;--> statement-breakpoint
ALTER TABLE "grant_bounds" ADD CONSTRAINT "grant_bounds_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "judge_budgets" ADD CONSTRAINT "judge_budgets_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_minted_for" CHECK ("api_keys"."minted_for" in ('judge', 'plugin_dry_run'));