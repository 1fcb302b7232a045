# bash completion for silo(8), the OCI container runtime.
#
# Installed by `make install` as $(PREFIX)/share/bash-completion/completions/silo;
# or: source contrib/silo.bash
#
# Completes global options, commands, each command's options and their values,
# and container ids (from `silo list -q`, in the state root given by a --root
# earlier on the line).  silo stops parsing options at the first argument, so
# options are offered only before a command's first positional argument.
# Works with or without the bash-completion package.

# Global options; those in _silo_global_arg take a value.
_silo_global_opts="--root --log --log-format --debug --systemd-cgroup --cgroup-manager --criu
--version --help"
_silo_global_arg="--root --log --log-format --cgroup-manager --criu --rootless"

_silo_commands="create start run exec state kill delete list pause resume ps update events
checkpoint restore sandbox spec features"

_silo_signals="HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT
CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN RTMAX"

# The options of a command (from its usage text) ...
_silo_cmd_opts() {
	case $1 in
	create) echo "--bundle -b --config --pid-file --console-socket --preserve-fds --no-pivot
		--no-new-keyring --network --publish -p --ipv6 --subnet6 --help" ;;
	run) echo "--bundle -b --config --detach -d --keep --pid-file --console-socket
		--preserve-fds --no-pivot --no-new-keyring --network --publish -p --ipv6 --subnet6
		--help" ;;
	events) echo "--stats --interval --help" ;;
	checkpoint) echo "--image-path --work-path --leave-running --tcp-established --ext-unix-sk
		--shell-job --file-locks --pre-dump --parent-path --page-server --lazy-pages --status-fd
		--manage-cgroups-mode --empty-ns --auto-dedup --export --criu-timeout --help" ;;
	restore) echo "--bundle -b --image-path --work-path --import --detach -d --pid-file
		--console-socket --tcp-established --tcp-close --ext-unix-sk --shell-job --file-locks
		--lazy-pages --manage-cgroups-mode --empty-ns --auto-dedup --no-pivot --lsm-profile
		--lsm-mount-context --criu-timeout --help" ;;
	sandbox) echo "--image --rootfs --keep-changes --bind --tmpfs --env -e --workdir -w --user -u
		--hostname --memory -m --cpus --pids --network --timeout --cap-add --cap-drop --seccomp
		--no-userns --prune --help" ;;
	exec) echo "--process -p --env -e --cwd --user -u --cap -c --tty -t --detach -d
		--pid-file --console-socket --no-new-privs --preserve-fds --cgroup --apparmor
		--process-label --help" ;;
	kill) echo "--all -a --help" ;;
	delete) echo "--force -f --help" ;;
	list) echo "--format -f --quiet -q --help" ;;
	spec) echo "--bundle -b --rootless --help" ;;
	ps) echo "--format -f --help" ;;
	update) echo "--resources -r --memory --memory-reservation --memory-swap --kernel-memory
		--kernel-memory-tcp --cpu-shares --cpu-quota --cpu-period --cpu-rt-period
		--cpu-rt-runtime --cpuset-cpus --cpuset-mems --pids-limit --blkio-weight --help" ;;
	start | state | pause | resume | features) echo "--help" ;;
	esac
}

# ... and those of them that take a value.
_silo_cmd_arg_opts() {
	case $1 in
	create | run) echo "--bundle -b --config --pid-file --console-socket --preserve-fds
		--network --publish -p --subnet6" ;;
	exec) echo "--process -p --env -e --cwd --user -u --cap -c --pid-file --console-socket
		--preserve-fds --cgroup --apparmor --process-label" ;;
	list | ps) echo "--format -f" ;;
	spec) echo "--bundle -b" ;;
	update) echo "--resources -r --memory --memory-reservation --memory-swap --kernel-memory
		--kernel-memory-tcp --cpu-shares --cpu-quota --cpu-period --cpu-rt-period
		--cpu-rt-runtime --cpuset-cpus --cpuset-mems --pids-limit --blkio-weight" ;;
	esac
}

# _silo_in WORD LIST: WORD is one of the words of LIST.
_silo_in() {
	local w
	for w in $2; do [[ $1 == "$w" ]] && return 0; done
	return 1
}

# An option as silo's parser sees it: "-root" is "--root" (getopt_long_only),
# and "--root=DIR" carries its value.
_silo_norm() {
	local o=${1%%=*}
	[[ $o == -[!-]?* ]] && o=-$o
	echo "$o"
}

_silo_files() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_silo_dirs() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

_silo_words() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Options: "-ro" also finds "--root", since silo accepts long options with one dash.
_silo_opt_words() {
	_silo_words "$1" "$2"
	if ((${#COMPREPLY[@]} == 0)) && [[ $2 == -[!-]* ]]; then
		_silo_words "$1" "-$2"
	fi
}

# Container ids, from the same binary and state root as the line being completed.
_silo_ids() {
	local bin=${COMP_WORDS[0]}
	[[ $bin == */* && -x $bin ]] || bin=silo
	local ids
	ids=$("$bin" ${_silo_root:+--root "$_silo_root"} list -q 2>/dev/null)
	_silo_words "$ids" "$1"
}

_silo_capabilities="AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE
CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE
LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST
NET_RAW PERFMON SETFCAP SETGID SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT
SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG
WAKE_ALARM"

# The long name of a command's short option (-p is --process for exec, but
# --publish for create and run).
_silo_long() {
	case $1:$2 in
	*:-b) echo --bundle ;;
	exec:-p) echo --process ;;
	create:-p | run:-p) echo --publish ;;
	*:-e) echo --env ;;
	*:-u) echo --user ;;
	*:-c) echo --cap ;;
	*:-f) echo --format ;;
	*:-r) echo --resources ;;
	*) echo "$2" ;;
	esac
}

# Values of the options that take one (by their long names).
_silo_value() {
	local opt=$1 cur=$2
	case $opt in
	--root | --bundle | --cwd) _silo_dirs "$cur" ;;
	--log-format) _silo_words "text json" "$cur" ;;
	--cgroup-manager) _silo_words "cgroupfs systemd disabled" "$cur" ;;
	--network) _silo_words "none bridge" "$cur" ;;
	--format) _silo_words "table json" "$cur" ;;
	--cap)
		local c caps=""
		for c in $_silo_capabilities; do caps+=" CAP_$c"; done
		_silo_words "$caps" "$cur"
		;;
	--criu)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -c -- "$cur"; compgen -f -- "$cur")
		;;
	--preserve-fds | --env | --user | --cgroup | --rootless | --publish | --subnet6 | \
		--memory* | --kernel-memory* | --cpu* | --pids-limit | --blkio-weight) COMPREPLY=() ;;
	*) _silo_files "$cur" ;;
	esac
}

# "--opt=value": complete the value; readline replaces only what follows the
# last word break, so the reply carries whatever part of the word it replaces.
_silo_eq_value() {
	local opt=$1 val=$2 keep=$3 k
	_silo_value "$opt" "$val"
	for k in "${!COMPREPLY[@]}"; do COMPREPLY[k]=$keep${COMPREPLY[k]}; done
}

_silo() {
	COMPREPLY=()
	# Bash splits "--root=/x" into "--root" "=" "/x" (= is in COMP_WORDBREAKS):
	# put such words back together.  keep: what of the current word readline
	# will replace, besides its value ("=", "--opt=" or nothing).
	local -a words=()
	local k w keep="" cword=0 glue=0
	for ((k = 0; k < ${#COMP_WORDS[@]}; k++)); do
		w=${COMP_WORDS[k]}
		if ((glue == 0)) && [[ $w == "=" ]] && ((${#words[@]} > 1)) &&
			[[ ${words[-1]} == -* && ${words[-1]} != *=* ]]; then
			words[-1]+="="
			glue=1
			((k == COMP_CWORD)) && keep="="
		elif ((glue == 1)); then
			words[-1]+=$w
			glue=0
		else
			words+=("$w")
			glue=0
			[[ $w == -*=* ]] && ((k == COMP_CWORD)) && keep=${w%%=*}=
		fi
		((k == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	((COMP_CWORD >= ${#COMP_WORDS[@]})) && { words+=(""); cword=$((${#words[@]} - 1)); }
	local cur=${words[cword]}

	local i=1 o cmd="" cmd_at=0
	_silo_root=""

	# Global options, up to the command.
	while ((i < cword)); do
		w=${words[i]}
		o=$(_silo_norm "$w")
		if [[ $w != -* ]]; then
			cmd=$w cmd_at=$i
			break
		fi
		if _silo_in "$o" "$_silo_global_arg"; then
			if [[ $w == *=* ]]; then
				[[ $o == --root ]] && _silo_root=${w#*=}
			else
				((i++))
				[[ $o == --root ]] && _silo_root=${words[i]}
			fi
		fi
		((i++))
	done
	# A --root typed as ~/x: expand the tilde as the shell will.
	[[ $_silo_root == "~"* ]] && _silo_root=$HOME${_silo_root#"~"}

	if [[ -z $cmd ]]; then
		local prev=${words[cword - 1]}
		o=$(_silo_norm "$prev")
		if [[ $cur == -*=* ]]; then
			_silo_eq_value "$(_silo_norm "$cur")" "${cur#*=}" "$keep"
		elif ((cword > 1)) && [[ $prev == -* && $prev != *=* ]] &&
			_silo_in "$o" "$_silo_global_arg"; then
			_silo_value "$o" "$cur"
		elif [[ $cur == -* ]]; then
			_silo_opt_words "$_silo_global_opts" "$cur"
		else
			_silo_words "$_silo_commands" "$cur"
		fi
		return 0
	fi

	# The command's options, up to its first positional argument.
	local opts arg_opts npos=0
	opts=$(_silo_cmd_opts "$cmd")
	arg_opts=$(_silo_cmd_arg_opts "$cmd")
	i=$((cmd_at + 1))
	while ((i < cword)); do
		w=${words[i]}
		if ((npos == 0)) && [[ $w == -* ]]; then
			o=$(_silo_norm "$w")
			if [[ $w != *=* ]] && _silo_in "$o" "$arg_opts"; then
				if ((i + 1 == cword)); then
					_silo_value "$(_silo_long "$cmd" "$o")" "$cur"
					return 0
				fi
				((i++))
			fi
		else
			((npos++))
		fi
		((i++))
	done

	if ((npos == 0)) && [[ $cur == -*=* ]]; then
		_silo_eq_value "$(_silo_long "$cmd" "$(_silo_norm "$cur")")" "${cur#*=}" "$keep"
		return 0
	fi
	if ((npos == 0)) && [[ $cur == -* ]]; then
		_silo_opt_words "$opts" "$cur"
		return 0
	fi

	case $cmd in
	start | state | delete | pause | resume | update)
		((npos == 0)) && _silo_ids "$cur"
		;;
	ps)
		# After the id come options for the host's ps(1).
		((npos == 0)) && _silo_ids "$cur"
		;;
	kill)
		if ((npos == 0)); then
			_silo_ids "$cur"
		elif ((npos == 1)); then
			if [[ $cur == [Ss][Ii][Gg]* ]]; then
				local s sigs=""
				for s in $_silo_signals; do sigs+=" SIG$s"; done
				_silo_words "$sigs" "$cur"
			else
				_silo_words "$_silo_signals" "$cur"
			fi
		fi
		;;
	exec)
		# After the id comes the command line, run inside the container.
		if ((npos == 0)); then
			_silo_ids "$cur"
		else
			_silo_files "$cur"
		fi
		;;
	create | run | list | spec | features | sandbox | restore) ;; # a new id, or no arguments
	esac
	return 0
}

complete -F _silo silo
