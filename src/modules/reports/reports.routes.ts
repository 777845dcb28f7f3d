import type { MikroORM } from '@mikro-orm/postgresql';
import { Router } from 'express';
import { badInput } from '../../core/errors';
import { jsonFallbacks, sendFile, withContext } from '../../http/rest';
import type { Authenticator } from '../auth/authenticator';
import { requireViewer } from '../../core/permissions';
import { exportService, requireFormat, requireTable } from './export.service';

/**
 * `GET /reports/{regionCode}/{period}/{table}.{csv|xlsx}`: an appendix
 * table (resources = appendix 4, supervision = appendix 5) of a region and
 * month, for any signed-in caller (docs/api.md, "Appendix exports").
 */
export function reportsRouter(orm: MikroORM, authenticator: Authenticator): Router {
  const router = Router();
  router.get(
    '/:regionCode/:period/:file',
    withContext(orm, authenticator, async (req, res, ctx) => {
      requireViewer(ctx);
      const match = /^([a-z]+)\.([a-z]+)$/.exec(String(req.params.file));
      if (!match) throw badInput(`Name the table as {table}.{format}, e.g. resources.xlsx or supervision.csv; got "${String(req.params.file)}".`);
      const file = await exportService.file(ctx, String(req.params.regionCode), String(req.params.period), requireTable(match[1]), requireFormat(match[2]));
      sendFile(res, file);
    }),
  );
  jsonFallbacks(router);
  return router;
}
