#include "cli/completion.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <set>
#include <sstream>

#include "core/base/exit_code.h"

namespace kproxy::cli {
namespace {

bool Visible(const CLI::App* app) { return !app->get_group().empty() && !app->get_name().empty(); }

CLI::App* FindSub(CLI::App* node, const std::string& name) {
  for (CLI::App* sub : node->get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

// The named option of `node` or one of its ancestors (fallthrough globals).
const CLI::Option* FindOption(CLI::App* node, const std::string& word) {
  std::string name = word;
  auto eq = name.find('=');
  if (eq != std::string::npos) name = name.substr(0, eq);
  for (CLI::App* n = node; n; n = n->get_parent()) {
    for (const CLI::Option* o : n->get_options({})) {
      if (o->get_positional()) continue;
      if (name.rfind("--", 0) == 0) {
        for (const auto& l : o->get_lnames())
          if ("--" + l == name) return o;
      } else if (name.size() == 2 && name[0] == '-') {
        for (const auto& s : o->get_snames())
          if ("-" + s == name) return o;
      }
    }
  }
  return nullptr;
}

bool TakesValue(const CLI::Option* o) { return o && o->get_expected_min() > 0; }

std::string OptionKey(const CLI::Option* o) {
  return o->get_lnames().empty() ? o->get_snames().front() : o->get_lnames().front();
}

// Path of subcommand names from the root, e.g. "config use-context".
std::string NodePath(CLI::App* node) {
  std::vector<std::string> names;
  for (CLI::App* n = node; n && n->get_parent(); n = n->get_parent())
    names.push_back(n->get_name());
  std::reverse(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

std::vector<std::string> Filter(std::vector<std::string> items, const std::string& prefix) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& i : items)
    if (i.rfind(prefix, 0) == 0 && seen.insert(i).second) out.push_back(std::move(i));
  return out;
}

// The values a CLI11 IsMember check allows, read back from the option's type name
// ("TEXT:{json,yaml}"), so completion offers exactly what the parser accepts.
std::vector<std::string> MemberValues(const CLI::Option* o) {
  std::string type = o->get_type_name();
  auto open = type.find(":{");
  if (open == std::string::npos || type.back() != '}') return {};
  std::vector<std::string> out;
  std::istringstream items(type.substr(open + 2, type.size() - open - 3));
  for (std::string item; std::getline(items, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

std::vector<std::string> Complete(CLI::App& app, const std::vector<std::string>& words,
                                  CompletionSource& source) {
  CLI::App* node = &app;
  std::string context, ns;
  std::vector<std::string> positionals;
  const std::string cur = words.empty() ? "" : words.back();
  const size_t n = words.empty() ? 0 : words.size() - 1;
  bool after_dashdash = false;
  for (size_t i = 0; i < n; ++i) {
    const std::string& w = words[i];
    if (after_dashdash) continue;
    if (w == "--") {
      after_dashdash = true;
      continue;
    }
    if (w.size() > 1 && w[0] == '-') {
      const CLI::Option* o = FindOption(node, w);
      if (TakesValue(o) && w.find('=') == std::string::npos && i + 1 < n) {
        std::string key = OptionKey(o), value = words[++i];
        if (key == "context") context = value;
        if (key == "namespace") ns = value;
      } else if (o && w.find('=') != std::string::npos) {
        std::string key = OptionKey(o), value = w.substr(w.find('=') + 1);
        if (key == "context") context = value;
        if (key == "namespace") ns = value;
      }
      continue;
    }
    if (positionals.empty()) {
      if (CLI::App* sub = FindSub(node, w)) {
        node = sub;
        continue;
      }
    }
    positionals.push_back(w);
  }
  if (after_dashdash) return {};  // the remote command's own words

  auto values = [&](const CLI::Option* o, const std::string& prefix) -> std::vector<std::string> {
    std::string key = OptionKey(o);
    if (auto allowed = MemberValues(o); !allowed.empty()) return Filter(allowed, prefix);
    if (key == "output") return Filter({"json", "yaml", "wide", "name"}, prefix);
    if (key == "protocol") return Filter({"auto", "websocket", "spdy"}, prefix);
    if (key == "context") return Filter(source.Contexts(), prefix);
    if (key == "cluster") return Filter(source.Clusters(), prefix);
    if (key == "user") return Filter(source.Users(), prefix);
    if (key == "namespace") return Filter(source.Namespaces(context), prefix);
    if (key == "container" && !positionals.empty()) {
      std::string pod = positionals.front();
      if (pod.rfind("pod/", 0) == 0) pod = pod.substr(4);
      return Filter(source.Containers(context, ns, pod), prefix);
    }
    return {};
  };

  // A value for the option just before the cursor.
  if (n > 0) {
    const std::string& prev = words[n - 1];
    const CLI::Option* o = prev.size() > 1 && prev[0] == '-' && prev.find('=') == std::string::npos
                               ? FindOption(node, prev)
                               : nullptr;
    if (TakesValue(o)) return values(o, cur);
  }

  // "--output=js": the value after '=', offered with the flag in front as the shells expect
  // (the scripts strip the part before '=' where the shell splits words there).
  if (cur.rfind("--", 0) == 0 && cur.find('=') != std::string::npos) {
    const CLI::Option* o = FindOption(node, cur);
    if (!TakesValue(o)) return {};
    std::string flag = cur.substr(0, cur.find('=') + 1);
    std::vector<std::string> out;
    for (auto& v : values(o, cur.substr(flag.size()))) out.push_back(flag + v);
    return out;
  }

  if (cur.size() > 0 && cur[0] == '-') {
    std::vector<std::string> flags;
    for (CLI::App* a = node; a; a = a->get_parent())
      for (const CLI::Option* o : a->get_options({})) {
        if (o->get_positional()) continue;
        for (const auto& l : o->get_lnames()) flags.push_back("--" + l);
        for (const auto& s : o->get_snames()) flags.push_back("-" + s);
      }
    flags.push_back("--help");
    return Filter(flags, cur);
  }

  std::vector<std::string> out;
  if (positionals.empty())
    for (CLI::App* sub : node->get_subcommands([](CLI::App* a) { return Visible(a); }))
      out.push_back(sub->get_name());
  std::string path = NodePath(node);
  const bool pod_command = path == "exec" || path == "attach" || path == "port-forward" ||
                           path == "logs" || path == "get pods";
  if (positionals.empty()) {
    if (pod_command) {
      // kubectl's TYPE/NAME form: "pod/we" completes to "pod/web-1".
      std::string prefix;
      for (const char* type : {"pod/", "pods/", "po/"})
        if (cur.rfind(type, 0) == 0) prefix = type;
      for (auto& p : source.Pods(context, ns)) out.push_back(prefix + p);
    }
    if (path == "config use-context" || path == "config get-contexts" || path == "login" ||
        path == "logout")
      for (auto& c : source.Contexts()) out.push_back(c);
    if (path == "completion")
      for (const char* s : {"bash", "zsh", "fish"}) out.push_back(s);
    if (path == "get")
      for (const char* s : {"pods"}) out.push_back(s);
  } else if (path == "get" && positionals.size() == 1 &&
             (positionals[0] == "pods" || positionals[0] == "pod" || positionals[0] == "po")) {
    // `get pods NAME`: get takes the type as its first positional.
    for (auto& p : source.Pods(context, ns)) out.push_back(p);
  }
  return Filter(out, cur);
}

std::string CompletionScript(const std::string& shell) {
  if (shell == "bash")
    return R"(# bash completion for kproxy (generated by `kproxy completion bash`)
_kproxy() {
  local IFS=$'\n' cur="${COMP_WORDS[COMP_CWORD]}"
  local line="${COMP_LINE:0:$COMP_POINT}" words
  # Split on whitespace only, so "8080:80" and "--output=json" stay one word.
  IFS=$' \t\n' read -r -a words <<< "$line"
  [[ "$line" =~ [[:space:]]$ ]] && words+=("")
  COMPREPLY=( $("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) )
  # Readline replaces only the text after the last COMP_WORDBREAKS character (':' in
  # "8080:80", '=' in "--output=json"), so candidates lose what comes before it.
  local w="${words[${#words[@]}-1]}" prefix="" i
  for (( i=${#w}-1; i>=0; i-- )); do
    if [[ "$COMP_WORDBREAKS" == *"${w:i:1}"* ]]; then prefix="${w:0:i+1}"; break; fi
  done
  [[ -n "$prefix" ]] && COMPREPLY=( "${COMPREPLY[@]#"$prefix"}" )
  return 0
}
# -o default: when kproxy has nothing to offer (e.g. --kubeconfig <TAB>), complete file names.
complete -o default -F _kproxy kproxy kubectl-kproxy
)";
  if (shell == "zsh")
    return R"(#compdef kproxy kubectl-kproxy
# zsh completion for kproxy (generated by `kproxy completion zsh`)
_kproxy() {
  local -a candidates
  candidates=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=(${candidates:#})
  compadd -- "${candidates[@]}"
}
if [[ "${funcstack[1]}" == "_kproxy" ]]; then
  _kproxy "$@"
else
  compdef _kproxy kproxy kubectl-kproxy
fi
)";
  if (shell == "fish")
    return R"(# fish completion for kproxy (generated by `kproxy completion fish`)
function __kproxy_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    $tokens[1] __complete $tokens[2..-1] "$current" 2>/dev/null
end
complete -c kproxy -f -a '(__kproxy_complete)'
complete -c kubectl-kproxy -f -a '(__kproxy_complete)'
)";
  return "";
}

namespace {

std::string RoffEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  // A line starting with '.' or '\'' would be read as a request.
  std::string fixed;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) fixed += "\\&";
    fixed += line + "\n";
  }
  return fixed;
}

// RoffEscape for text inside one line (no trailing newline).
std::string Inline(const std::string& s) {
  std::string out = RoffEscape(s);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void OptionsSection(std::ostringstream& m, const CLI::App* node, bool with_help) {
  for (const CLI::Option* o : node->get_options({})) {
    // Every command has -h/--help; it is listed once, under GLOBAL OPTIONS.
    if (o->get_positional() || (!with_help && o == node->get_help_ptr())) continue;
    std::string names;
    for (const auto& s : o->get_snames())
      names += (names.empty() ? "" : ", ") + std::string("-") + s;
    for (const auto& l : o->get_lnames())
      names += (names.empty() ? "" : ", ") + std::string("--") + l;
    if (names.empty()) continue;
    m << ".TP\n\\fB" << Inline(names) << "\\fR";
    if (o->get_expected_min() > 0) m << " \\fI" << Inline(o->get_type_name()) << "\\fR";
    m << "\n" << RoffEscape(o->get_description());
  }
}

// "shell" → " \fIshell\fR" for each positional of `node`, as a synopsis shows them.
std::string Positionals(const CLI::App* node) {
  std::string out;
  for (const CLI::Option* o : node->get_options({})) {
    if (!o->get_positional()) continue;
    out += " \\fI" + Inline(o->get_name()) + (o->get_expected_max() > 1 ? "...\\fR" : "\\fR");
  }
  return out;
}

void CommandSection(std::ostringstream& m, CLI::App* node) {
  for (CLI::App* sub : node->get_subcommands([](CLI::App* a) { return Visible(a); })) {
    std::string path = NodePath(sub);
    m << ".SS \"kproxy " << path << Positionals(sub) << "\"\n"
      << RoffEscape(sub->get_description());
    bool has_options = false;
    for (const CLI::Option* o : sub->get_options({}))
      has_options |= !o->get_positional() && o != sub->get_help_ptr();
    if (has_options) {
      m << ".RS\n";
      OptionsSection(m, sub, false);
      m << ".RE\n";
    }
    if (!sub->get_footer().empty()) m << ".PP\n.nf\n" << RoffEscape(sub->get_footer()) << ".fi\n";
    CommandSection(m, sub);
  }
}

}  // namespace

std::string ManPage(CLI::App& app) {
  std::ostringstream m;
  m << ".TH KPROXY 1 \"\" \"kproxy " KPROXY_VERSION "\" \"User Commands\"\n"
    << ".SH NAME\nkproxy \\- reach Kubernetes workloads through a zero\\-trust access proxy\n"
    << ".SH SYNOPSIS\n.B kproxy\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] "
       "[\\fIargs\\fR]\n"
    << ".SH DESCRIPTION\n"
    << "kproxy is a kubectl\\-compatible client that opens exec, attach and port\\-forward "
       "sessions over WebSocket with automatic fallback to SPDY/3.1, logs in through an "
       "identity\\-aware access proxy, works as a kubectl credential plugin, and explains every "
       "refused request.\n"
    << ".SH COMMANDS\n";
  CommandSection(m, &app);
  m << ".SH GLOBAL OPTIONS\n";
  OptionsSection(m, &app, true);
  m << ".SH EXIT STATUS\n";
  for (const auto& d : kExitStatusDocs)
    m << ".TP\n.B " << d.status << "\n" << RoffEscape(d.meaning);
  m << ".SH ENVIRONMENT\n.TP\n.B KUBECONFIG\nColon\\-separated kubeconfig files, merged as "
       "kubectl does.\n.TP\n.B KUBECTL_REMOTE_COMMAND_WEBSOCKETS\n\\fBfalse\\fR forces SPDY "
       "for exec and attach.\n.TP\n.B KUBECTL_PORT_FORWARD_WEBSOCKETS\n\\fBfalse\\fR forces "
       "SPDY for port\\-forward.\n.TP\n.B KPROXY_SERVICE_ACCOUNT_FILE\nA service\\-account "
       "token used instead of the interactive login (CI).\n"
    << ".SH FILES\n.TP\n.B /usr/bin/kubectl\\-kproxy\nA link to kproxy: kubectl runs it for "
       "\\fBkubectl kproxy\\fR \\fIcommand\\fR, so kproxy works as a kubectl plugin.\n"
       ".TP\n.B /usr/share/bash\\-completion/completions/kproxy\n.TQ\n"
       ".B /usr/share/zsh/vendor\\-completions/_kproxy\n.TQ\n"
       ".B /usr/share/fish/vendor_completions.d/kproxy.fish\nThe output of \\fBkproxy "
       "completion\\fR for each shell; they ask \\fBkproxy __complete\\fR for candidates.\n"
       ".TP\n.B ~/.cache/kproxy/\nThe access\\-proxy token cache (0600 files, honours "
       "\\fBXDG_CACHE_HOME\\fR).\n"
    << ".SH SEE ALSO\n.BR kubectl (1)\n";
  return m.str();
}

}  // namespace kproxy::cli
