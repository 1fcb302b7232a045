# shellcheck shell=bash
# Container images made by hand (tar, gzip, sha256sum, jq), for `silo sandbox`:
# its integration tests (tests/integration/test_sandbox.sh) and the bench
# (tests/bench/run-bench).
#
#   image_sha FILE                           its sha256 hex
#   image_layer_tar SRC_DIR OUT              a layer tar as image builders write it
#   image_config OUT ARCH CONFIG DIFF_ID...  an image config: CONFIG is the JSON of its
#                                            "config" member (Cmd, Env, WorkingDir...)
#   make_oci_image OUT TMP ARCH CONFIG LAYER_DIR...
#       an OCI image layout as a tar; the first layer gzip-compressed, the others
#       plain; TMP is a scratch directory (made and removed)
#   make_docker_image OUT TMP ARCH CONFIG TAG LAYER_DIR...
#       a `docker save` archive (legacy layout: <diff_id>/layer.tar), RepoTags [TAG]
#       (no tag when TAG is empty)
#   image_arch                               this host's architecture, OCI spelling

image_arch() {
	case "$(uname -m)" in x86_64) echo amd64 ;; aarch64) echo arm64 ;; armv7l) echo arm ;;
	i686) echo 386 ;; *) uname -m ;; esac
}

image_sha() { sha256sum "$1" | cut -d' ' -f1; }

# Numeric owners, the directory itself as "./", xattrs kept.
image_layer_tar() { tar --numeric-owner --xattrs -C "$1" -cf "$2" .; }

image_config() {
	local out=$1 arch=$2 config=$3; shift 3
	jq -n --arg arch "$arch" --argjson config "$config" --args '{architecture: $arch, os: "linux",
		config: $config, rootfs: {type: "layers", diff_ids: [$ARGS.positional[] | "sha256:" + .]}}' \
		"$@" > "$out"
}

make_oci_image() {
	local out=$1 d=$2 arch=$3 config=$4; shift 4
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	local i=0 src diff blob mt diffs=() layers='[]' cfg man
	mkdir -p "$d/img/blobs/sha256" || return 1
	for src; do
		i=$((i + 1))
		image_layer_tar "$src" "$d/l$i.tar" || return 1
		diff=$(image_sha "$d/l$i.tar")
		diffs+=("$diff")
		if [ "$i" = 1 ]; then
			gzip -n -c "$d/l$i.tar" > "$d/l$i.tar.gz" && mv "$d/l$i.tar.gz" "$d/l$i.tar" || return 1
			mt=application/vnd.oci.image.layer.v1.tar+gzip
		else
			mt=application/vnd.oci.image.layer.v1.tar
		fi
		blob=$(image_sha "$d/l$i.tar")
		mv "$d/l$i.tar" "$d/img/blobs/sha256/$blob"
		layers=$(jq -c --arg mt "$mt" --arg b "$blob" --argjson s "$(stat -c %s "$d/img/blobs/sha256/$blob")" \
			'. + [{mediaType: $mt, digest: ("sha256:" + $b), size: $s}]' <<< "$layers")
	done
	image_config "$d/config.json" "$arch" "$config" "${diffs[@]}" || return 1
	cfg=$(image_sha "$d/config.json")
	jq -n --arg c "$cfg" --argjson cs "$(stat -c %s "$d/config.json")" --argjson layers "$layers" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: ("sha256:" + $c), size: $cs},
		  layers: $layers}' > "$d/manifest.json"
	mv "$d/config.json" "$d/img/blobs/sha256/$cfg"
	man=$(image_sha "$d/manifest.json")
	jq -n --arg m "$man" --argjson ms "$(stat -c %s "$d/manifest.json")" --arg arch "$arch" \
		'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
		  digest: ("sha256:" + $m), size: $ms, platform: {architecture: $arch, os: "linux"},
		  annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' > "$d/img/index.json"
	mv "$d/manifest.json" "$d/img/blobs/sha256/$man"
	echo '{"imageLayoutVersion": "1.0.0"}' > "$d/img/oci-layout"
	tar -C "$d/img" -cf "$out" . || return 1
	rm -rf "$d"
}

make_docker_image() {
	local out=$1 d=$2 arch=$3 config=$4 tag=$5; shift 5
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	local i=0 src diff diffs=() paths=() cfg
	mkdir -p "$d/img" || return 1
	for src; do
		i=$((i + 1))
		image_layer_tar "$src" "$d/l$i.tar" || return 1
		diff=$(image_sha "$d/l$i.tar")
		diffs+=("$diff")
		mkdir -p "$d/img/$diff"
		mv "$d/l$i.tar" "$d/img/$diff/layer.tar"
		paths+=("$diff/layer.tar")
	done
	image_config "$d/config.json" "$arch" "$config" "${diffs[@]}" || return 1
	cfg=$(image_sha "$d/config.json")
	mv "$d/config.json" "$d/img/$cfg.json"
	jq -n --arg c "$cfg.json" --arg tag "$tag" '[{Config: $c} + (if $tag == "" then {} else {RepoTags: [$tag]} end)
		+ {Layers: $ARGS.positional}]' --args "${paths[@]}" > "$d/img/manifest.json"
	(cd "$d/img" && tar -cf "$out" manifest.json "$cfg.json" "${diffs[@]}") || return 1
	rm -rf "$d"
}
