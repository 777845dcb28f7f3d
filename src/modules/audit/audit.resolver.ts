import { Args, ArgsType, Authorized, Ctx, Field, Int, Query, Resolver } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { pageRequest, toConnection } from '../../graphql/pagination';
import { Role } from '../../core/viewer';
import { auditService } from './audit.service';
import { AuditEntryConnection, AuditFilterInput } from './audit.types';

const MAX_AUDIT_PAGE = 200;

@ArgsType()
class AuditEntriesArgs {
  @Field(() => AuditFilterInput, { nullable: true, description: 'Narrows the trail.' })
  filter?: AuditFilterInput | null;

  @Field(() => Int, { nullable: true, description: `How many entries (1 to ${MAX_AUDIT_PAGE}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

@Resolver()
export class AuditResolver {
  @Authorized(Role.ADMIN)
  @Query(() => AuditEntryConnection, { description: 'The audit trail in the order it was written (administrators only).' })
  async auditEntries(@Args(() => AuditEntriesArgs) args: AuditEntriesArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, MAX_AUDIT_PAGE);
    return toConnection(await auditService.search(ctx, args.filter ?? {}, page), page);
  }
}
