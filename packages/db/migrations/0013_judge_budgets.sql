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
ALTER TABLE "judge_budgets" ADD CONSTRAINT "judge_budgets_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;