ALTER TABLE "journey_steps" ADD COLUMN "key" varchar(64);--> statement-breakpoint
ALTER TABLE "journey_user_sessions" ADD COLUMN "step_entered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "journey_user_sessions" ADD COLUMN "context" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "tenant_bots" ADD COLUMN "welcome_text" text;--> statement-breakpoint
ALTER TABLE "tenant_bots" ADD COLUMN "unknown_link_text" text;--> statement-breakpoint
ALTER TABLE "tenant_bots" ADD COLUMN "help_text" text;--> statement-breakpoint
ALTER TABLE "tenant_bots" ADD COLUMN "waiting_text" text;--> statement-breakpoint
ALTER TABLE "tenant_bots" ADD COLUMN "unavailable_text" text;