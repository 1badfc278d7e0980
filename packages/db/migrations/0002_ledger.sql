CREATE TABLE "ledger_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid,
	"owner_type" text NOT NULL,
	"owner_id" text NOT NULL,
	"currency" text NOT NULL,
	"purpose" text NOT NULL,
	"debits_must_not_exceed_credits" boolean NOT NULL,
	"balance_derived" boolean DEFAULT false NOT NULL,
	"debits_pending" bigint DEFAULT 0 NOT NULL,
	"debits_posted" bigint DEFAULT 0 NOT NULL,
	"credits_pending" bigint DEFAULT 0 NOT NULL,
	"credits_posted" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_owner_type" CHECK ("ledger_accounts"."owner_type" in ('user', 'team', 'org', 'system')),
	CONSTRAINT "ledger_accounts_totals_non_negative" CHECK ("ledger_accounts"."debits_pending" >= 0 and "ledger_accounts"."debits_posted" >= 0 and "ledger_accounts"."credits_pending" >= 0 and "ledger_accounts"."credits_posted" >= 0),
	CONSTRAINT "ledger_accounts_wallet_not_negative" CHECK (not "ledger_accounts"."debits_must_not_exceed_credits" or "ledger_accounts"."debits_pending" + "ledger_accounts"."debits_posted" <= "ledger_accounts"."credits_posted")
);
--> statement-breakpoint
CREATE TABLE "ledger_batches" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"prev_mac" text NOT NULL,
	"mac" text NOT NULL,
	"first_transfer_seq" bigint NOT NULL,
	"last_transfer_seq" bigint NOT NULL,
	"transfer_count" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_transfers" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"debit_account_id" uuid NOT NULL,
	"credit_account_id" uuid NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"pending_id" text,
	"expires_at" timestamp (3) with time zone,
	"code" text NOT NULL,
	"user_data" jsonb,
	"batch_seq" bigint NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"row_mac" text NOT NULL,
	CONSTRAINT "ledger_transfers_type" CHECK ("ledger_transfers"."type" in ('transfer', 'pending', 'post', 'void', 'expire')),
	CONSTRAINT "ledger_transfers_amount_non_negative" CHECK ("ledger_transfers"."amount" >= 0),
	CONSTRAINT "ledger_transfers_distinct_accounts" CHECK ("ledger_transfers"."debit_account_id" <> "ledger_transfers"."credit_account_id")
);
--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "allow_peer_transfers" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_owner_key" ON "ledger_accounts" USING btree ("owner_type","owner_id","currency","purpose");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_transfers_id_key" ON "ledger_transfers" USING btree ("id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_transfers_pending_resolution_key" ON "ledger_transfers" USING btree ("pending_id") WHERE "ledger_transfers"."pending_id" is not null;--> statement-breakpoint
CREATE INDEX "ledger_transfers_debit_idx" ON "ledger_transfers" USING btree ("debit_account_id","seq");--> statement-breakpoint
CREATE INDEX "ledger_transfers_credit_idx" ON "ledger_transfers" USING btree ("credit_account_id","seq");--> statement-breakpoint
CREATE INDEX "ledger_transfers_expiry_idx" ON "ledger_transfers" USING btree ("expires_at") WHERE "ledger_transfers"."type" = 'pending';