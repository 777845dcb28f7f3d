import type { MikroORM } from '@mikro-orm/postgresql';
import express, { Router } from 'express';
import { badInput } from '../../core/errors';
import { MAX_XLSX_UPLOAD_BYTES } from '../../core/xlsx-archive';
import { authenticateFirst, contextHandler, jsonFallbacks, sendFile, withContext } from '../../http/rest';
import type { Authenticator } from '../auth/authenticator';
import { requireViewer } from '../../core/permissions';
import { requireFormat } from '../reports/export.service';
import { importService, requireKind } from './import.service';
import type { ImportLimits } from './import-limits';

/** Largest upload: 50,000 rows of a wide directories file are about 15 MB. */
export const MAX_UPLOAD = MAX_XLSX_UPLOAD_BYTES;

/** The optional `x-file-name` header, percent-encoded when it holds Chinese characters. */
function fileNameOf(header: string): string {
  try {
    return decodeURIComponent(header).slice(0, 200);
  } catch {
    return header.slice(0, 200);
  }
}

const flag = (value: unknown) => typeof value === 'string' && ['1', 'true', 'yes'].includes(value.toLowerCase());

/**
 * `POST /imports/{directories|supervision-items}[?dryRun=true]` with the file
 * as the request body (text/csv or the XLSX content type), and
 * `GET /imports/{kind}/template.{csv|xlsx}` (docs/api.md, "Bulk import").
 */
export function importsRouter(orm: MikroORM, authenticator: Authenticator, limits?: ImportLimits): Router {
  const router = Router();
  router.get(
    '/:kind/template.:format',
    withContext(orm, authenticator, async (req, res, ctx) => {
      requireViewer(ctx);
      sendFile(res, await importService.template(requireKind(String(req.params.kind)), requireFormat(String(req.params.format))));
    }),
  );
  router.post(
    '/:kind',
    authenticateFirst(orm, authenticator, (ctx) => importService.requireImporter(ctx)),
    express.raw({ type: () => true, limit: MAX_UPLOAD }),
    contextHandler(async (req, res, ctx) => {
      const kind = requireKind(String(req.params.kind));
      const contentType = req.headers['content-type'];
      if (contentType?.startsWith('multipart/'))
        throw badInput(
          'Send the file itself as the request body (content type text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet), not as a form.',
        );
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const fileName = typeof req.headers['x-file-name'] === 'string' ? fileNameOf(req.headers['x-file-name']) : undefined;
      const report = await importService.run(ctx, { kind, body, contentType, dryRun: flag(req.query.dryRun), fileName, limits });
      if (!report.dryRun && !report.applied) {
        res.status(400).json({
          error: {
            code: 'BAD_USER_INPUT',
            message: `${report.errors.length} error(s) in the file; nothing was written. Each error names its row, column and reason.`,
          },
          ...report,
        });
        return;
      }
      res.json(report);
    }),
  );
  jsonFallbacks(router);
  return router;
}
