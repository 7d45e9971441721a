/** Host paths several roles share. */
export const SECRETS_DIR = "/etc/instagram/secrets";
