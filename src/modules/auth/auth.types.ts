import { Length } from 'class-validator';
import { Field, GraphQLISODateTime, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ActorKind, Role } from '../../core/viewer';

registerEnumType(Role, {
  name: 'Role',
  description: 'What a caller may do.',
  valuesConfig: {
    ADMIN: { description: 'Platform administrator (平台管理员): manages regions, departments and API keys, and may act for any department.' },
    STEWARD: { description: "Department data steward (部门数据管理员): writes only their own department's data." },
    VIEWER: { description: 'Reads only.' },
  },
});
registerEnumType(ActorKind, {
  name: 'ActorKind',
  description: 'How a caller proved who they are.',
  valuesConfig: {
    USER: { description: 'A person signed in at the unified identity platform (统一身份认证), by JWT.' },
    API_KEY: { description: 'A machine client with an API key.' },
    SYSTEM: { description: 'The bootstrap admin key or the server itself.' },
  },
});

@ObjectType('Viewer', { description: 'The caller of this request, as the server sees them.' })
export class ViewerType {
  @Field(() => ActorKind, { description: 'How the caller signed in.' })
  kind!: ActorKind;

  @Field({ description: 'User id (JWT `sub`), API key id, or "bootstrap".' })
  id!: string;

  @Field({ description: 'Display name.' })
  name!: string;

  @Field(() => Role, { description: 'Role.' })
  role!: Role;

  @Field(() => String, { nullable: true, description: 'Credit code of the department a steward acts for; null for admins and viewers.' })
  departmentCreditCode!: string | null;
}

@ObjectType('ApiKey', {
  description: 'An API key of a machine client (e.g. an upstream supervision system), scoped to one department. Only a hash of the secret is stored.',
})
export class ApiKeyType {
  @Field(() => ID, { description: 'Global ID; pass it to `revokeApiKey`.' })
  id!: string;

  @Field({ description: 'What the key is for.' })
  name!: string;

  @Field({ description: 'The first characters of the secret, to tell keys apart.' })
  prefix!: string;

  @Field({ description: 'Credit code of the department the key acts for (as a steward).' })
  departmentCreditCode!: string;

  @Field({ description: 'Actor id of the administrator who created it.' })
  createdBy!: string;

  @Field(() => GraphQLISODateTime, { description: 'When it was created.' })
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was revoked; null while it works.' })
  revokedAt!: Date | null;
}

@ObjectType('CreatedApiKey', { description: 'A new API key with its secret, shown this once.' })
export class CreatedApiKeyType {
  @Field(() => ApiKeyType, { description: 'The key.' })
  apiKey!: ApiKeyType;

  @Field({ description: 'The secret to send as "Authorization: Bearer <secret>". It is not stored and cannot be shown again.' })
  secret!: string;
}

@InputType({ description: 'A new API key.' })
export class CreateApiKeyInput {
  @Field({ description: 'What the key is for, e.g. 监管系统推送.' })
  @Length(1, 200, { message: 'must be 1 to 200 characters' })
  name!: string;

  @Field({ description: 'Credit code of the one department the key may write for.' })
  departmentCreditCode!: string;
}

@InputType({ description: 'An API key to revoke.' })
export class RevokeApiKeyInput {
  @Field(() => ID, { description: 'Global ID of the key.' })
  id!: string;
}
