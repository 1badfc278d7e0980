CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"system_owner" text,
	"name" text NOT NULL,
	"secret_hmac" text NOT NULL,
	"scopes" text[] NOT NULL,
	"allowed_models" text[],
	"rpm_limit" integer,
	"tpm_limit" integer,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"replaced_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_keys_owner" CHECK (("api_keys"."user_id" is not null) <> ("api_keys"."system_owner" is not null)),
	CONSTRAINT "api_keys_scopes" CHECK ("api_keys"."scopes" <@ array['inference','api']::text[] and cardinality("api_keys"."scopes") > 0)
);
--> statement-breakpoint
CREATE TABLE "gateway_requests" (
	"request_id" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"team_id" uuid,
	"model" text NOT NULL,
	"tier" text NOT NULL,
	"currency" text NOT NULL,
	"estimate" bigint NOT NULL,
	"fee_currency" text,
	"fee_estimate" bigint,
	"price_list_version" integer NOT NULL,
	"policy_version" integer,
	"system" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "price_lists" (
	"version" integer PRIMARY KEY NOT NULL,
	"body" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "request_payloads" (
	"request_id" text PRIMARY KEY NOT NULL,
	"prompt" jsonb NOT NULL,
	"completion" text NOT NULL,
	"truncated" boolean NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_records" (
	"request_id" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"team_id" uuid,
	"key_id" text NOT NULL,
	"model" text NOT NULL,
	"cluster" text NOT NULL,
	"replica" text NOT NULL,
	"tier" text NOT NULL,
	"prompt_tokens" integer NOT NULL,
	"completion_tokens" integer NOT NULL,
	"currency" text NOT NULL,
	"cost" bigint NOT NULL,
	"fee_currency" text,
	"fee" bigint,
	"price_list_version" integer NOT NULL,
	"latency_ms" integer NOT NULL,
	"ttft_ms" integer,
	"co2e_micrograms" bigint NOT NULL,
	"energy_micro_wh" bigint NOT NULL,
	"end_user" text,
	"tags" jsonb,
	"system" boolean NOT NULL,
	"outcome" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_user_idx" ON "api_keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "gateway_requests_created_idx" ON "gateway_requests" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_request_kind_key" ON "outbox" USING btree ("request_id","kind");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("id") WHERE "outbox"."delivered_at" is null;--> statement-breakpoint
CREATE INDEX "usage_records_user_idx" ON "usage_records" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_records_team_idx" ON "usage_records" USING btree ("team_id","created_at");