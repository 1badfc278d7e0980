CREATE TABLE "allowance_schedules" (
	"org_id" uuid NOT NULL,
	"role" text NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "allowance_schedules_org_id_role_currency_pk" PRIMARY KEY("org_id","role","currency"),
	CONSTRAINT "allowance_schedules_role_known" CHECK ("allowance_schedules"."role" in ('employee','lead','esg','admin')),
	CONSTRAINT "allowance_schedules_amount_positive" CHECK ("allowance_schedules"."amount" > 0)
);
--> statement-breakpoint
ALTER TABLE "allowance_schedules" ADD CONSTRAINT "allowance_schedules_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;