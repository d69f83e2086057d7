"""Tools around the language for the places people write `.arch`: the formatter (`fmt`), the
language server (`lsp`), the Pygments lexer and TextMate grammar (`lexer`, `textmate`), the web
playground (`serve`) and `watch`.

None of them imports torch. Each command module has `register(subparsers) -> {name: handler}` and
imports its heavy dependencies (pygls, starlette, watchfiles) inside the handler."""
