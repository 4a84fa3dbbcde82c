export { type AgeHeader, decryptSecret, encryptSecret, isArmored, readHeader } from './age-file.js';
export { SecretsError } from './errors.js';
export { type AgeIdentity, parseIdentities, readIdentityFile } from './identities.js';
export { type ParsedRecipient, parseRecipient, type RecipientKind } from './recipients.js';
export { headerMatches, type RekeyOptions, type RekeySummary, rekey } from './rekey.js';
export {
  filesForRecipient,
  type NixOptions,
  type Rules,
  readRules,
  recipientKey,
  type SecretRule,
} from './rules.js';
export { addRuleText } from './rules-edit.js';
export { SshEd25519Identity, SshEd25519Recipient } from './ssh-ed25519.js';
export {
  PassphraseNeededError,
  parseSshPrivateKey,
  parseSshPublicKey,
  type SshPrivateKey,
  type SshPublicKey,
  sshTag,
} from './ssh-keys.js';
export { SshRsaIdentity, SshRsaRecipient } from './ssh-rsa.js';
