import type { Step } from './generate';
import { ANCHOR } from './generate';
import type { Scale } from './scales';

/**
 * Subscription requests (订阅申请) as the subscription service files and
 * decides them: only for published, shared directories, never by the
 * provider itself, at most one request per (directory, requesting
 * department) so the one-live-request rule holds. Popular directories draw
 * more requests (the directory is picked by u², skewed to a few).
 *
 * Unconditional directories: GRANTED at once (decided when filed).
 * Conditional: 55% approved (GRANTED), 20% rejected with a reason, 25% still PENDING.
 * Of the granted, 6% were later cancelled by the requester and 3% revoked by
 * the provider (ended_at set); 25% carry an end date, some already past,
 * which the API reads as LAPSED without writing it.
 */
export function subscriptionSteps(scale: Scale): Step[] {
  const anchor = `'${ANCHOR}'::timestamptz`;
  return [
    {
      name: 'subscription requests',
      async run(client) {
        const result = await client.query(
          `with dirs as (select id, department_id, share_type, published_at, row_number() over (order by id) as i
                           from resource_directory where status = 'PUBLISHED' and share_type <> 'NOT_SHARED'),
                deps as (select id, row_number() over (order by id) as i from department),
                sizes as (select (select count(*) from dirs) as nd, (select count(*) from deps) as ndep),
                candidates as (
                  select g, 1 + floor(power(pg_temp.u(40, g), 2) * sizes.nd)::bigint as di, 1 + floor(pg_temp.u(41, g) * sizes.ndep)::bigint as ri
                    from sizes, generate_series(1, ${Math.ceil(scale.subscriptions * 1.5)}) g),
                pairs as (
                  select distinct on (d.id, r.id) c.g, d.id as directory_id, d.department_id as provider_id, r.id as requester_id, d.share_type, d.published_at
                    from candidates c join dirs d on d.i = c.di join deps r on r.i = c.ri
                   where r.id <> d.department_id
                   order by d.id, r.id, c.g),
                chosen as (select * from pairs order by g limit ${scale.subscriptions}),
                decided as (
                  select ch.*, t.filed,
                         case when ch.share_type = 'UNCONDITIONAL' then 'GRANTED'
                              when pg_temp.u(42, g) < 0.55 then 'GRANTED'
                              when pg_temp.u(42, g) < 0.75 then 'REJECTED'
                              else 'PENDING' end as decision
                    from chosen ch,
                         lateral (select greatest(ch.published_at, ${anchor} - interval '700 days') + (${anchor} - greatest(ch.published_at, ${anchor} - interval '700 days')) * pg_temp.u(43, g) as filed) t)
           insert into subscription_request (directory_id, provider_id, requester_id, purpose, end_date, status, requested_by, decided_at, decision_reason, ended_at, created_at, updated_at)
           select directory_id, provider_id, requester_id,
                  '履行' || (array['行政审批', '市场监管', '社会救助', '执法检查', '统计分析'])[1 + floor(pg_temp.u(44, g) * 5)::int] || '职责需要',
                  case when pg_temp.u(45, g) < 0.25 then (filed + interval '1 day' * floor(30 + pg_temp.u(46, g) * 700))::date end,
                  (case when decision = 'GRANTED' and pg_temp.u(47, g) < 0.06 then 'CANCELLED'
                        when decision = 'GRANTED' and pg_temp.u(47, g) < 0.09 then 'REVOKED'
                        else decision end)::subscription_status,
                  'steward-' || requester_id,
                  case when share_type = 'UNCONDITIONAL' then filed when decision <> 'PENDING' then filed + interval '1 day' * (1 + floor(pg_temp.u(48, g) * 10)) end,
                  case when decision = 'REJECTED' then '用途与所申请资源不符，请补充说明。'
                       when decision = 'GRANTED' and pg_temp.u(47, g) >= 0.06 and pg_temp.u(47, g) < 0.09 then '提供方调整共享范围。' end,
                  case when decision = 'GRANTED' and pg_temp.u(47, g) < 0.09 then filed + interval '1 day' * (15 + floor(pg_temp.u(49, g) * 60)) end,
                  filed,
                  filed + interval '1 day' * (case when decision = 'GRANTED' and pg_temp.u(47, g) < 0.09 then 75 when decision <> 'PENDING' then 11 else 0 end)
             from decided
            order by filed, g`,
        );
        return result.rowCount ?? 0;
      },
    },
  ];
}
