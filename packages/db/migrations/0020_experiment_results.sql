CREATE TABLE "experiment_assignments" (
	"result_row_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"variant_key" text NOT NULL,
	CONSTRAINT "experiment_assignments_result_row_id_user_id_variant_key_pk" PRIMARY KEY("result_row_id","user_id","variant_key")
);
--> statement-breakpoint
CREATE TABLE "experiment_results" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"result_id" text NOT NULL,
	"experiment_key" text NOT NULL,
	"metric_id" text NOT NULL,
	"higher_is_better" boolean NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"variations" jsonb NOT NULL,
	"content_sha256" text NOT NULL,
	"submitted_by_key_id" text NOT NULL,
	"submitter_user_id" uuid NOT NULL,
	"tagged_requests" bigint NOT NULL,
	"assigned_users" integer NOT NULL,
	"unmatched_assignments" integer NOT NULL,
	"cursor_request_id" text,
	"signalled_settlements" integer DEFAULT 0 NOT NULL,
	"skipped_settlements" integer DEFAULT 0 NOT NULL,
	"relayed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "experiment_service_keys" (
	"key_id" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"created_by_user_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_scopes";--> statement-breakpoint
ALTER TABLE "experiment_assignments" ADD CONSTRAINT "experiment_assignments_result_row_id_experiment_results_id_fk" FOREIGN KEY ("result_row_id") REFERENCES "public"."experiment_results"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_assignments" ADD CONSTRAINT "experiment_assignments_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_results" ADD CONSTRAINT "experiment_results_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_results" ADD CONSTRAINT "experiment_results_submitted_by_key_id_api_keys_id_fk" FOREIGN KEY ("submitted_by_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_results" ADD CONSTRAINT "experiment_results_submitter_user_id_users_id_fk" FOREIGN KEY ("submitter_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_service_keys" ADD CONSTRAINT "experiment_service_keys_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_service_keys" ADD CONSTRAINT "experiment_service_keys_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_service_keys" ADD CONSTRAINT "experiment_service_keys_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "experiment_results_org_result_key" ON "experiment_results" USING btree ("org_id","result_id");--> statement-breakpoint
CREATE INDEX "experiment_results_org_experiment_idx" ON "experiment_results" USING btree ("org_id","experiment_key","created_at");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_experiments_scope_alone" CHECK (not ('experiments' = any("api_keys"."scopes")) or ("api_keys"."scopes" = array['experiments']::text[] and "api_keys"."system_owner" = 'experiments'));--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_scopes" CHECK ("api_keys"."scopes" <@ array['inference','api','experiments']::text[] and cardinality("api_keys"."scopes") > 0);