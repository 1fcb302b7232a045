/* silo: credentials: becoming root of a user namespace, and ids as users type them. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/base.h"

int
creds_become_root(struct silo_error *err)
{
  /* gid first: once the uid is not root any more, setresgid could be refused. */
  if (setresgid(0, 0, 0) < 0) return silo_err(err, errno, "setgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0) return silo_err(err, errno, "setuid 0 in the user namespace");
  return 0;
}

static bool
id_number(const char *s, size_t n, uint32_t *out)
{
  if (n == 0 || n > 10) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > UINT32_MAX - 1) return false; /* (uid_t)-1 means "no change" to the kernel */
  *out = (uint32_t)v;
  return true;
}

int
creds_parse_ids(const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid)
{
  const char *colon = strchr(s, ':');
  *has_gid = colon != NULL;
  if (!id_number(s, colon ? (size_t)(colon - s) : strlen(s), uid)) return -1;
  if (colon && !id_number(colon + 1, strlen(colon + 1), gid)) return -1;
  return 0;
}

/* A lone id (no ":gid"). */
static bool
one_id(const char *s, uint32_t *out)
{
  return s && id_number(s, strlen(s), out);
}

int
creds_passwd_lookup(char *passwd, const char *name, uint32_t uid, struct creds_pw *pw)
{
  char *save = NULL;
  for (char *l = strtok_r(passwd, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    char *f[7] = {0};
    char *p = l;
    for (int i = 0; i < 7 && p; i++) {
      f[i] = p;
      p = strchr(p, ':');
      if (p) *p++ = '\0';
    }
    uint32_t u, g;
    if (!f[3] || !one_id(f[2], &u) || !one_id(f[3], &g)) continue;
    if (name ? strcmp(f[0], name) != 0 : u != uid) continue;
    pw->uid = u;
    pw->gid = g;
    snprintf(pw->name, sizeof pw->name, "%s", f[0]);
    snprintf(pw->home, sizeof pw->home, "%s", f[5] && *f[5] ? f[5] : "/");
    return 0;
  }
  return -1;
}
