CREATE TABLE "ledger_checkpoint_high_water" (
	"id" integer PRIMARY KEY NOT NULL,
	"batch_seq" bigint NOT NULL,
	"mac" text NOT NULL,
	"last_transfer_seq" bigint NOT NULL,
	"at" text NOT NULL,
	"record_mac" text NOT NULL,
	CONSTRAINT "ledger_checkpoint_high_water_one_row" CHECK ("ledger_checkpoint_high_water"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD COLUMN "account_mac" text;