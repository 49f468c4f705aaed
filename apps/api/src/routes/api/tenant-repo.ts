import { TenantRepository } from "@journeys/core";
import type { FastifyRequest } from "fastify";
import type { ApiDeps } from "../../deps.ts";

/** The tenant comes from the verified token, once, and scopes every query of the request. */
export const tenantRepo = (deps: ApiDeps, req: FastifyRequest) =>
  new TenantRepository(deps.db.db, req.user.tenant_id, deps.config.botTokenEncryptionKey);
