/* silo: the calling process's credentials. */
#include <errno.h>
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
