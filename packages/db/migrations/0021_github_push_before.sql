ALTER TABLE "github_evidence" ADD COLUMN "before_sha" text;--> statement-breakpoint
ALTER TABLE "github_evidence" ADD COLUMN "forced" boolean DEFAULT false NOT NULL;