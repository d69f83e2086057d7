// Starts `cnndsl lsp` (or the command in the setting cnndsl.server.command) for .arch files.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("cnndsl").get("server.command");
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("cnndsl", "cnndsl language server", server, {
    documentSelector: [{ scheme: "file", language: "cnndsl" }, { scheme: "untitled", language: "cnndsl" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
