# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by demo.sh and bench/e2e: the [plugin:*] groups that point the
# plugins at their policy in the source tree, for a run from a build tree
# (an installation finds them under $datadir/bulwark and /etc/apparmor.d).
#   source_tree_conf PLUGINS SRC SCRATCH >>bulwark.conf
# PLUGINS is the plugins= list; apparmor profiles go to SCRATCH/apparmor.d.
source_tree_conf() {
  case ",$1," in *,apparmor,*)
    mkdir -p "$3/apparmor.d"
    printf '[plugin:apparmor]\nprofile-dir=%s\ntemplate=%s\ninclude-dir=%s\n' "$3/apparmor.d" \
      "$2/policy/apparmor/TEMPLATE.guest" "$2/policy/apparmor" ;;
  esac
  case ",$1," in *,landlock,*)
    printf '[plugin:landlock]\nbase-rules=%s\n' "$2/policy/landlock/base.rules" ;;
  esac
}
