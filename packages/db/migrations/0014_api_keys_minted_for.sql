ALTER TABLE "api_keys" ADD COLUMN "minted_for" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_minted_for" CHECK ("api_keys"."minted_for" in ('judge', 'plugin_dry_run'));