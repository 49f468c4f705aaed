CREATE TABLE "journey_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" varchar NOT NULL,
	"bot_id" varchar NOT NULL,
	"session_id" uuid,
	"telegram_chat_id" bigint NOT NULL,
	"message_content" jsonb NOT NULL,
	"status" varchar DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"error" text,
	CONSTRAINT "journey_outbox_status_chk" CHECK (status IN ('pending', 'sent', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "journey_scheduled_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" varchar NOT NULL,
	"session_id" uuid NOT NULL,
	"step_id" uuid NOT NULL,
	"telegram_chat_id" bigint NOT NULL,
	"message_content" jsonb NOT NULL,
	"scheduled_for" timestamp with time zone NOT NULL,
	"status" varchar DEFAULT 'pending' NOT NULL,
	"sent_at" timestamp with time zone,
	"error" text,
	CONSTRAINT "journey_scheduled_messages_status_chk" CHECK (status IN ('pending', 'sent', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "journey_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"journey_id" uuid NOT NULL,
	"step_order" integer NOT NULL,
	"step_type" varchar NOT NULL,
	"config" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now(),
	"removed_at" timestamp with time zone,
	CONSTRAINT "journey_steps_type_chk" CHECK (step_type IN ('message', 'question', 'delay', 'conditional'))
);
--> statement-breakpoint
CREATE TABLE "journey_triggers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"journey_id" uuid NOT NULL,
	"trigger_type" varchar NOT NULL,
	"trigger_config" jsonb NOT NULL,
	"is_active" boolean DEFAULT true,
	CONSTRAINT "journey_triggers_type_chk" CHECK (trigger_type IN ('telegram_deeplink', 'stripe_event', 'manual'))
);
--> statement-breakpoint
CREATE TABLE "journey_user_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" varchar NOT NULL,
	"journey_id" uuid NOT NULL,
	"telegram_chat_id" bigint NOT NULL,
	"telegram_user_id" bigint NOT NULL,
	"current_step_id" uuid,
	"status" varchar DEFAULT 'active' NOT NULL,
	"answers" jsonb DEFAULT '{}'::jsonb,
	"started_at" timestamp with time zone DEFAULT now(),
	"completed_at" timestamp with time zone,
	"last_activity_at" timestamp with time zone DEFAULT now(),
	CONSTRAINT "journey_user_sessions_status_chk" CHECK (status IN ('active', 'completed', 'expired', 'cancelled', 'waiting_delay'))
);
--> statement-breakpoint
CREATE TABLE "journeys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" varchar NOT NULL,
	"bot_id" varchar NOT NULL,
	"name" varchar NOT NULL,
	"description" text,
	"status" varchar DEFAULT 'draft' NOT NULL,
	"re_entry_policy" varchar DEFAULT 'block' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now(),
	"updated_at" timestamp with time zone DEFAULT now(),
	CONSTRAINT "journeys_status_chk" CHECK (status IN ('draft', 'active', 'paused', 'archived')),
	CONSTRAINT "journeys_re_entry_policy_chk" CHECK (re_entry_policy IN ('allow', 'block', 'restart'))
);
--> statement-breakpoint
CREATE TABLE "processed_updates" (
	"bot_id" varchar NOT NULL,
	"update_id" bigint NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_updates_bot_id_update_id_pk" PRIMARY KEY("bot_id","update_id")
);
--> statement-breakpoint
CREATE TABLE "tenant_bots" (
	"bot_id" varchar PRIMARY KEY NOT NULL,
	"tenant_id" varchar NOT NULL,
	"telegram_bot_id" bigint NOT NULL,
	"username" varchar NOT NULL,
	"first_name" varchar DEFAULT '' NOT NULL,
	"token_encrypted" text NOT NULL,
	"webhook_secret" varchar NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_bots_bot_id_chk" CHECK ("tenant_bots"."bot_id" ~ '^[A-Za-z0-9_-]{1,64}$')
);
--> statement-breakpoint
ALTER TABLE "journey_outbox" ADD CONSTRAINT "journey_outbox_session_id_journey_user_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."journey_user_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_scheduled_messages" ADD CONSTRAINT "journey_scheduled_messages_session_id_journey_user_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."journey_user_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_scheduled_messages" ADD CONSTRAINT "journey_scheduled_messages_step_id_journey_steps_id_fk" FOREIGN KEY ("step_id") REFERENCES "public"."journey_steps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_steps" ADD CONSTRAINT "journey_steps_journey_id_journeys_id_fk" FOREIGN KEY ("journey_id") REFERENCES "public"."journeys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_triggers" ADD CONSTRAINT "journey_triggers_journey_id_journeys_id_fk" FOREIGN KEY ("journey_id") REFERENCES "public"."journeys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_user_sessions" ADD CONSTRAINT "journey_user_sessions_journey_id_journeys_id_fk" FOREIGN KEY ("journey_id") REFERENCES "public"."journeys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_user_sessions" ADD CONSTRAINT "journey_user_sessions_current_step_id_journey_steps_id_fk" FOREIGN KEY ("current_step_id") REFERENCES "public"."journey_steps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "journey_outbox_status_created_idx" ON "journey_outbox" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "journey_outbox_chat_pending_idx" ON "journey_outbox" USING btree ("bot_id","telegram_chat_id","id") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "journey_outbox_session_idx" ON "journey_outbox" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "journey_scheduled_messages_status_scheduled_idx" ON "journey_scheduled_messages" USING btree ("status","scheduled_for");--> statement-breakpoint
CREATE INDEX "journey_scheduled_messages_tenant_status_scheduled_idx" ON "journey_scheduled_messages" USING btree ("tenant_id","status","scheduled_for");--> statement-breakpoint
CREATE INDEX "journey_steps_journey_order_idx" ON "journey_steps" USING btree ("journey_id","step_order");--> statement-breakpoint
CREATE INDEX "journey_triggers_journey_type_active_idx" ON "journey_triggers" USING btree ("journey_id","trigger_type","is_active");--> statement-breakpoint
CREATE INDEX "journey_user_sessions_tenant_journey_user_status_idx" ON "journey_user_sessions" USING btree ("tenant_id","journey_id","telegram_user_id","status");--> statement-breakpoint
CREATE INDEX "journey_user_sessions_tenant_user_status_idx" ON "journey_user_sessions" USING btree ("tenant_id","telegram_user_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "journey_user_sessions_one_live_uq" ON "journey_user_sessions" USING btree ("journey_id","telegram_user_id") WHERE status IN ('active', 'waiting_delay');--> statement-breakpoint
CREATE INDEX "journeys_tenant_status_idx" ON "journeys" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE INDEX "processed_updates_processed_at_idx" ON "processed_updates" USING btree ("processed_at");--> statement-breakpoint
CREATE INDEX "tenant_bots_tenant_idx" ON "tenant_bots" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tenant_bots_telegram_bot_id_uq" ON "tenant_bots" USING btree ("telegram_bot_id");