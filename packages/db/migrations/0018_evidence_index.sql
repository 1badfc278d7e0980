CREATE TABLE "evidence_index" (
	"org_id" uuid NOT NULL,
	"plugin_id" text NOT NULL,
	"key" text NOT NULL,
	"request_id" text NOT NULL,
	"request_created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "evidence_index_org_id_plugin_id_key_request_id_pk" PRIMARY KEY("org_id","plugin_id","key","request_id")
);
--> statement-breakpoint
ALTER TABLE "evidence_index" ADD CONSTRAINT "evidence_index_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "evidence_index_expires_idx" ON "evidence_index" USING btree ("expires_at");