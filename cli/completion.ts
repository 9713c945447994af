// `slvctl completion bash`: commands, flags and resource types, and object names from the live API.
import { KINDS, SHORT_NAMES } from '../schemas/types.js';

/** Commands whose first argument is a resource type and the second an object name. */
const OBJECT_COMMANDS = ['get', 'describe', 'delete', 'edit', 'wait', 'patch', 'label', 'annotate', 'start', 'stop', 'recreate'];

export function bashCompletion(commands: Record<string, string[]>): string {
  const types = KINDS.flatMap((k) => SHORT_NAMES[k]).join(' ');
  const objectCommands = `^(${OBJECT_COMMANDS.join('|')})$`;
  const flagCases = Object.entries(commands)
    .map(([command, flags]) => `    ${command}) flags="${flags.join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for slvctl. Load it with:  source <(slvctl completion bash)
_slvctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} command="" kind="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) if [[ -z $command ]]; then command=\${COMP_WORDS[i]}; elif [[ -z $kind ]]; then kind=\${COMP_WORDS[i]}; fi ;;
    esac
  done
  local flags=""
  case "$command" in
${flagCases}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags --server --help" -- "$cur"))
  elif [[ -z $command ]]; then
    COMPREPLY=($(compgen -W "${Object.keys(commands).join(' ')}" -- "$cur"))
  elif [[ -z $kind && $command =~ ${objectCommands} ]]; then
    COMPREPLY=($(compgen -W "${types}" -- "$cur"))
  elif [[ -n $kind && $command =~ ${objectCommands} ]]; then
    COMPREPLY=($(compgen -W "$(slvctl get "$kind" -o name 2>/dev/null | cut -d/ -f2)" -- "$cur"))
  elif [[ $command == explain ]]; then
    COMPREPLY=($(compgen -W "${KINDS.map((k) => k.toLowerCase()).join(' ')}" -- "$cur"))
  elif [[ $command == apply || $command == diff ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _slvctl slvctl
`;
}
