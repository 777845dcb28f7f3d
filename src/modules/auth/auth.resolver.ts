import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { numericIdOf, toGlobalId } from '../../graphql/global-id';
import type { ApiKey } from './api-key.entity';
import { apiKeyService } from './api-key.service';
import { ApiKeyType, CreateApiKeyInput, CreatedApiKeyType, RevokeApiKeyInput, ViewerType } from './auth.types';
import { Role } from '../../core/viewer';

function toApiKeyType(apiKey: ApiKey): ApiKeyType {
  return {
    id: toGlobalId('ApiKey', apiKey.id),
    name: apiKey.name,
    prefix: apiKey.prefix,
    departmentCreditCode: apiKey.department.getEntity().creditCode,
    createdBy: apiKey.createdBy,
    createdAt: apiKey.createdAt,
    revokedAt: apiKey.revokedAt ?? null,
  };
}

@Resolver()
export class AuthResolver {
  @Authorized()
  @Query(() => ViewerType, { description: 'Who the server takes the caller to be: handy to check a token.' })
  viewer(@Ctx() ctx: MuluContext): ViewerType {
    return ctx.viewer!;
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ApiKeyType], { description: 'API keys, oldest first (administrators only).' })
  async apiKeys(
    @Arg('departmentCreditCode', () => String, { nullable: true, description: 'Only the keys of this department.' }) departmentCreditCode: string | null,
    @Ctx() ctx: MuluContext,
  ): Promise<ApiKeyType[]> {
    const keys = await apiKeyService.list(ctx, departmentCreditCode);
    await ctx.em.populate(keys, ['department']);
    return keys.map(toApiKeyType);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedApiKeyType, {
    nullable: true,
    description: 'Issues an API key for one department (administrators only). The secret is in the answer and never again.',
  })
  async createApiKey(
    @Arg('input', () => CreateApiKeyInput, { description: 'The key.' }) input: CreateApiKeyInput,
    @Ctx() ctx: MuluContext,
  ): Promise<CreatedApiKeyType> {
    const { apiKey, secret } = await apiKeyService.create(ctx, input);
    return { apiKey: toApiKeyType(apiKey), secret };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ApiKeyType, { nullable: true, description: 'Revokes an API key at once (administrators only).' })
  async revokeApiKey(
    @Arg('input', () => RevokeApiKeyInput, { description: 'The key.' }) input: RevokeApiKeyInput,
    @Ctx() ctx: MuluContext,
  ): Promise<ApiKeyType> {
    const apiKey = await apiKeyService.revoke(ctx, numericIdOf(input.id, 'ApiKey'));
    await ctx.em.populate(apiKey, ['department']);
    return toApiKeyType(apiKey);
  }
}
