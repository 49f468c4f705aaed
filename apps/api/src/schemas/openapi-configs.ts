/**
 * What step configs, trigger configs and answers hold, as named OpenAPI components with examples.
 * The API validates them in the domain (step-config.ts, 400 with the rule broken); these schemas
 * describe the same rules for readers and client generators, so the routes' own request schemas
 * stay permissive objects and keep the domain's precise messages.
 */
import { MAX_TEXT_LENGTH, VALIDATION_KINDS } from "@journeys/core";

const text = (description: string) => ({ type: "string", minLength: 1, maxLength: MAX_TEXT_LENGTH, description });
const MINUTES = { type: "number", minimum: 0, maximum: 43_200 };

const step = (type: string, config: string, example: object) => ({
  type: "object",
  required: ["step_type", "config"],
  additionalProperties: false,
  properties: {
    step_type: { type: "string", enum: [type] },
    config: { $ref: `#/components/schemas/${config}` },
  },
  example: { step_type: type, config: example },
});

export const CONFIG_SCHEMAS: Record<string, object> = {
  MessageConfig: {
    type: "object",
    required: ["text"],
    properties: { text: text("sent as is") },
    example: { text: "Welcome to Broker Sign Up!" },
  },
  QuestionConfig: {
    type: "object",
    required: ["text", "answer_key", "validation"],
    properties: {
      text: text("the question"),
      answer_key: {
        type: "string",
        pattern: "^[A-Za-z0-9_.-]{1,64}$",
        description: "answers[answer_key] holds the answer",
      },
      validation: {
        type: "string",
        enum: [...VALIDATION_KINDS],
        description:
          "how the answer is checked and normalised; choice requires options; phone sends a button to share the number",
      },
      error_text: text(
        "sent instead of the default re-prompt when the answer is invalid (not when an ambiguous answer is asked back)",
      ),
      options: {
        type: "array",
        minItems: 1,
        maxItems: 100,
        items: { $ref: "#/components/schemas/ChoiceOption" },
        description:
          "buttons: required for choice (a press or a typed label stores the value), optional for country " +
          "(values are ISO 3166-1 alpha-2 codes in capitals; typed country names still work), refused for other kinds. " +
          "Values are unique, and so are labels compared without case and extra spaces",
      },
      default_region: {
        type: "string",
        pattern: "^[A-Z]{2}$",
        description:
          "phone only: ISO 3166-1 alpha-2 region for numbers typed without a country code (e.g. DE reads 0151 23456789)",
      },
    },
    example: {
      text: "What is your experience?",
      answer_key: "experience",
      validation: "choice",
      options: [
        { label: "Beginner", value: "beginner" },
        { label: "Some experience", value: "some" },
        { label: "Professional", value: "pro" },
      ],
      error_text: "Please tap one of the buttons.",
    },
  },
  ChoiceOption: {
    type: "object",
    required: ["label", "value"],
    additionalProperties: false,
    properties: {
      label: {
        type: "string",
        minLength: 1,
        maxLength: 64,
        description: "the button's text (1–64 characters trimmed)",
      },
      value: { type: "string", minLength: 1, maxLength: 64, description: "what answers[answer_key] stores" },
    },
    example: { label: "Germany 🇩🇪", value: "DE" },
  },
  DelayConfig: {
    type: "object",
    required: ["min_minutes", "max_minutes"],
    properties: {
      min_minutes: { ...MINUTES, description: "at least this long (minutes, ≤ 30 days)" },
      max_minutes: { ...MINUTES, description: "at most this long; min_minutes ≤ max_minutes" },
    },
    example: { min_minutes: 60, max_minutes: 120 },
  },
  ConditionalConfig: {
    type: "object",
    additionalProperties: true,
    description: "stored as given; skipped at run time in this version",
    example: { if: { "==": [{ var: "country" }, "DE"] } },
  },
  MessageStep: step("message", "MessageConfig", { text: "Welcome to Broker Sign Up!" }),
  QuestionStep: step("question", "QuestionConfig", {
    text: "How old are you?",
    answer_key: "age",
    validation: "number",
  }),
  DelayStep: step("delay", "DelayConfig", { min_minutes: 60, max_minutes: 120 }),
  ConditionalStep: step("conditional", "ConditionalConfig", {}),
  StepInput: {
    oneOf: ["MessageStep", "QuestionStep", "DelayStep", "ConditionalStep"].map((n) => ({
      $ref: `#/components/schemas/${n}`,
    })),
    discriminator: {
      propertyName: "step_type",
      mapping: {
        message: "#/components/schemas/MessageStep",
        question: "#/components/schemas/QuestionStep",
        delay: "#/components/schemas/DelayStep",
        conditional: "#/components/schemas/ConditionalStep",
      },
    },
  },
  DeeplinkTriggerConfig: {
    type: "object",
    required: ["start_param"],
    properties: {
      start_param: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", description: "t.me/<bot>?start=<start_param>" },
    },
    example: { start_param: "broker_signup" },
  },
  OtherTriggerConfig: {
    type: "object",
    additionalProperties: true,
    description: "manual and stripe_event triggers: stored as given",
    example: {},
  },
  Answers: {
    type: "object",
    description:
      "answers[answer_key]: number → a number, text → the text, country → ISO 3166 alpha-2, money → {amount, currency}, " +
      "choice → the chosen option's value, phone → E.164 (+4915123456789), email → the address with its domain lower-cased",
    additionalProperties: {
      oneOf: [
        { type: "number" },
        { type: "string" },
        {
          type: "object",
          required: ["amount", "currency"],
          properties: { amount: { type: "number" }, currency: { type: "string" } },
        },
      ],
    },
    example: {
      age: 34,
      country: "DE",
      deposit: { amount: 5000, currency: "EUR" },
      experience: "some",
      phone: "+4915123456789",
      email: "Jane.Doe@example.com",
    },
  },
};

/** A JSON schema node of the generated document, walked by property name. */
type Node = { [key: string]: Node | undefined };
/** Set a value in the document (JSON: the Node type only serves the walk). */
const put = (node: Node, key: string, value: unknown) => {
  (node as Record<string, unknown>)[key] = value;
};

/** Where the components go in the document: request bodies and responses that carry them. */
export function describeConfigs(doc: Record<string, unknown>): void {
  const root = doc as unknown as Node;
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const jsonSchema = (op: Node | undefined) => op?.content?.["application/json"]?.schema;
  const steps = jsonSchema(root.paths?.["/api/journeys/{id}/steps"]?.put?.requestBody);
  if (steps?.properties?.steps) {
    put(steps.properties.steps, "items", ref("StepInput"));
    put(steps, "example", {
      steps: [
        { step_type: "message", config: { text: "Welcome!" } },
        { step_type: "question", config: { text: "How old are you?", answer_key: "age", validation: "number" } },
        { step_type: "delay", config: { min_minutes: 60, max_minutes: 120 } },
        { step_type: "message", config: { text: "Thanks, we will be in touch." } },
      ],
    });
  }
  const trigger = jsonSchema(root.paths?.["/api/journeys/{id}/triggers"]?.post?.requestBody);
  if (trigger?.properties?.trigger_config) {
    put(trigger.properties, "trigger_config", {
      anyOf: [ref("DeeplinkTriggerConfig"), ref("OtherTriggerConfig")],
      description: "telegram_deeplink: DeeplinkTriggerConfig; manual, stripe_event: any object",
    });
    put(trigger, "example", {
      trigger_type: "telegram_deeplink",
      trigger_config: { start_param: "broker_signup" },
      is_active: true,
    });
  }
  const sessions = jsonSchema(root.paths?.["/api/journeys/debug/sessions"]?.get?.responses?.["200"]);
  const session = sessions?.properties?.sessions?.items?.properties;
  if (session?.answers) put(session, "answers", ref("Answers"));
}
