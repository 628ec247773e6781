// The line editor's pure parts, on strings: no terminal. Rendering is checked
// by feeding render()'s output to the pty harness's screen model.
#include "tools/repl/line_editor.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tools/repl/pty_harness.h"

namespace repl::editor {
namespace {

std::vector<Key> decode(const std::string& bytes) {
  KeyDecoder d;
  d.feed(bytes);
  std::vector<Key> keys;
  while (auto k = d.next()) keys.push_back(*k);
  return keys;
}

Key text(const std::string& s) { return Key{KeyKind::kText, s}; }
Key ctrl(char c) { return Key{KeyKind::kCtrl, std::string(1, c)}; }
Key kind(KeyKind k) { return Key{k, {}}; }

void type(LineEditor& e, const std::string& s) {
  KeyDecoder d;
  d.feed(s);
  while (auto k = d.next()) e.handle(*k);
}

TEST(Utf8Test, CharacterStepsAndWidths) {
  std::string s = "a\xc3\xa9\xe4\xb8\xad";  // a é 中
  EXPECT_EQ(next_char(s, 0), 1u);
  EXPECT_EQ(next_char(s, 1), 3u);
  EXPECT_EQ(next_char(s, 3), 6u);
  EXPECT_EQ(prev_char(s, 6), 3u);
  EXPECT_EQ(prev_char(s, 3), 1u);
  EXPECT_EQ(display_width(s), 4);  // 中 is wide
  EXPECT_EQ(display_width("\x1b[1;34mfor\x1b[0m"), 3);
  EXPECT_EQ(display_width("e\xcc\x81"), 1);  // combining accent
}

TEST(KeyDecoderTest, KeysAndEscapeSequences) {
  EXPECT_EQ(decode("a\r\t\x7f\x01\x0b"),
            (std::vector<Key>{text("a"), kind(KeyKind::kEnter), kind(KeyKind::kTab), kind(KeyKind::kBackspace), ctrl('a'), ctrl('k')}));
  EXPECT_EQ(decode("\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\x1b[3~\x1bOH\x1b[1~\x1b[4~"),
            (std::vector<Key>{kind(KeyKind::kUp), kind(KeyKind::kDown), kind(KeyKind::kRight), kind(KeyKind::kLeft),
                              kind(KeyKind::kHome), kind(KeyKind::kEnd), kind(KeyKind::kDelete), kind(KeyKind::kHome),
                              kind(KeyKind::kHome), kind(KeyKind::kEnd)}));
  EXPECT_EQ(decode("\x1b" "b\x1b" "f\x1b[1;5D\x1b[1;5C\x1b" "d\x1b\x7f\x17"),
            (std::vector<Key>{kind(KeyKind::kWordLeft), kind(KeyKind::kWordRight), kind(KeyKind::kWordLeft),
                              kind(KeyKind::kWordRight), kind(KeyKind::kKillWordRight), kind(KeyKind::kKillWordLeft),
                              kind(KeyKind::kKillWordLeft)}));
  EXPECT_EQ(decode("\x1b[99~").at(0).kind, KeyKind::kUnknown);
}

TEST(KeyDecoderTest, SequencesSplitAcrossReadsWait) {
  KeyDecoder d;
  d.feed("\x1b");
  EXPECT_FALSE(d.next());
  d.feed("[");
  EXPECT_FALSE(d.next());
  d.feed("A\xc3");
  EXPECT_EQ(d.next(), kind(KeyKind::kUp));
  EXPECT_FALSE(d.next());
  d.feed("\xa9");
  EXPECT_EQ(d.next(), text("\xc3\xa9"));
}

TEST(KeyDecoderTest, BracketedPasteIsOneKey) {
  KeyDecoder d;
  d.feed("\x1b[200~x = 1\rif x:\r\n    y\x1b[20");
  EXPECT_FALSE(d.next());
  d.feed("1~z");
  EXPECT_EQ(d.next(), (Key{KeyKind::kPaste, "x = 1\nif x:\n    y"}));
  EXPECT_EQ(d.next(), text("z"));
}

TEST(CompleteInputTest, Python313Rules) {
  EXPECT_TRUE(is_complete_input(""));
  EXPECT_TRUE(is_complete_input("x = 1"));
  EXPECT_TRUE(is_complete_input("for i in x: print(i)"));
  EXPECT_FALSE(is_complete_input("if x:"));
  EXPECT_FALSE(is_complete_input("if x:  # comment"));
  EXPECT_FALSE(is_complete_input("if x:\n    y"));
  EXPECT_TRUE(is_complete_input("if x:\n    y\n"));
  EXPECT_FALSE(is_complete_input("@decorator"));
  EXPECT_FALSE(is_complete_input("f(1,"));
  EXPECT_TRUE(is_complete_input("f(1,\n  2)"));
  EXPECT_FALSE(is_complete_input("s = '''abc"));
  EXPECT_TRUE(is_complete_input("s = '''a\nb'''"));
  EXPECT_TRUE(is_complete_input("s = '(' + \"[\""));
  EXPECT_TRUE(is_complete_input("d = {1: 2}"));
  EXPECT_FALSE(is_complete_input("x = 1 + \\"));
  EXPECT_TRUE(is_complete_input("x = ')'  # (unclosed in a comment"));
}

TEST(LineEditorTest, InsertMoveDeleteAndUtf8) {
  History h;
  LineEditor e(&h);
  type(e, "hllo");
  type(e, "\x1b[D\x1b[D\x1b[D");
  type(e, "e");
  EXPECT_EQ(e.text(), "hello");
  EXPECT_EQ(e.cursor(), 2u);
  type(e, "\x05 w\xc3\xb6rld\x7f\x7f");  // Ctrl-E, then two backspaces over "ld"
  EXPECT_EQ(e.text(), "hello w\xc3\xb6r");
  type(e, "\x1b[D\x1b[D\x7f");  // back over 'r' and 'ö', delete 'w'
  EXPECT_EQ(e.text(), "hello \xc3\xb6r");
  type(e, "\x01\x1b[3~");  // Ctrl-A, Delete
  EXPECT_EQ(e.text(), "ello \xc3\xb6r");
  EXPECT_EQ(e.handle(kind(KeyKind::kEnd)), LineEditor::Action::kRedraw);
  EXPECT_EQ(e.cursor(), e.text().size());
}

TEST(LineEditorTest, WordMotionsKillAndYank) {
  History h;
  LineEditor e(&h);
  type(e, "await asyncio.sleep(1)");
  type(e, "\x1b" "b");
  EXPECT_EQ(e.cursor(), std::string("await asyncio.sleep(").size());
  type(e, "\x1b" "b\x1b" "b");
  EXPECT_EQ(e.cursor(), std::string("await ").size());
  type(e, "\x1b" "f");
  EXPECT_EQ(e.cursor(), std::string("await asyncio").size());
  type(e, "\x0b");  // Ctrl-K
  EXPECT_EQ(e.text(), "await asyncio");
  type(e, "\x17");  // Ctrl-W
  EXPECT_EQ(e.text(), "await ");
  type(e, "\x19");  // Ctrl-Y yanks the last kill
  EXPECT_EQ(e.text(), "await asyncio");
  type(e, "\x15");  // Ctrl-U
  EXPECT_EQ(e.text(), "");
  type(e, "\x19");
  EXPECT_EQ(e.text(), "await asyncio");
}

TEST(LineEditorTest, BlocksContinueAndSubmitAsAUnit) {
  History h;
  LineEditor e(&h);
  type(e, "if x:");
  EXPECT_EQ(e.handle(kind(KeyKind::kEnter)), LineEditor::Action::kRedraw);
  type(e, "    print(1)");
  EXPECT_EQ(e.handle(kind(KeyKind::kEnter)), LineEditor::Action::kRedraw);
  EXPECT_EQ(e.handle(kind(KeyKind::kEnter)), LineEditor::Action::kSubmit);
  EXPECT_EQ(e.take_submitted(), "if x:\n    print(1)");
  // Home/End and Ctrl-K work on the cursor's line of the block.
  e.set_text("if x:\n    abc", 8);
  type(e, "\x01");
  EXPECT_EQ(e.cursor(), 6u);
  type(e, "\x0b");
  EXPECT_EQ(e.text(), "if x:\n");
  // Up inside a block moves a line up; on the first line it is history.
  e.set_text("a = 1\nb = 2", 9);
  EXPECT_EQ(e.handle(kind(KeyKind::kUp)), LineEditor::Action::kRedraw);
  EXPECT_EQ(e.cursor(), 3u);
  EXPECT_EQ(e.handle(kind(KeyKind::kUp)), LineEditor::Action::kBell);  // no history
  // Tab at the start of a line indents.
  e.set_text("if x:\n", 6);
  e.handle(kind(KeyKind::kTab));
  EXPECT_EQ(e.text(), "if x:\n    ");
  EXPECT_EQ(e.handle(kind(KeyKind::kTab)), LineEditor::Action::kRedraw);
  e.set_text("pri", 3);
  EXPECT_EQ(e.handle(kind(KeyKind::kTab)), LineEditor::Action::kComplete);
}

TEST(LineEditorTest, PasteEndingInNewlineSubmitsTheWholeBlock) {
  History h;
  LineEditor e(&h);
  EXPECT_EQ(e.handle(Key{KeyKind::kPaste, "def f():\n    return 1\n\nprint(f())\n"}), LineEditor::Action::kSubmit);
  EXPECT_EQ(e.take_submitted(), "def f():\n    return 1\n\nprint(f())");
  e.clear();
  EXPECT_EQ(e.handle(Key{KeyKind::kPaste, "partial"}), LineEditor::Action::kRedraw);
  EXPECT_EQ(e.text(), "partial");
}

TEST(LineEditorTest, ControlKeysAskTheConsole) {
  History h;
  LineEditor e(&h);
  EXPECT_EQ(e.handle(ctrl('d')), LineEditor::Action::kEof);
  type(e, "x");
  EXPECT_EQ(e.handle(ctrl('d')), LineEditor::Action::kBell);  // at the end: nothing to delete
  EXPECT_EQ(e.handle(ctrl('c')), LineEditor::Action::kInterrupt);
  EXPECT_EQ(e.handle(ctrl('l')), LineEditor::Action::kClearScreen);
}

TEST(HistoryTest, NavigationKeepsTheDraft) {
  History h;
  h.add("first");
  h.add("second");
  h.add("second");  // consecutive duplicate
  h.add("   ");     // blank
  EXPECT_EQ(h.entries(), (std::vector<std::string>{"first", "second"}));
  LineEditor e(&h);
  type(e, "draft");
  e.handle(kind(KeyKind::kUp));
  EXPECT_EQ(e.text(), "second");
  e.handle(kind(KeyKind::kUp));
  EXPECT_EQ(e.text(), "first");
  EXPECT_EQ(e.handle(kind(KeyKind::kUp)), LineEditor::Action::kBell);
  e.handle(kind(KeyKind::kDown));
  e.handle(kind(KeyKind::kDown));
  EXPECT_EQ(e.text(), "draft");
}

TEST(HistoryTest, ReverseSearch) {
  History h;
  h.add("x = 1");
  h.add("print(x)");
  h.add("y = x + 1");
  LineEditor e(&h);
  e.handle(ctrl('r'));
  EXPECT_TRUE(e.searching());
  type(e, "x");
  EXPECT_EQ(e.shown_text(), "y = x + 1");
  e.handle(ctrl('r'));
  EXPECT_EQ(e.shown_text(), "print(x)");
  type(e, "zz");  // "xzz" is nowhere
  EXPECT_TRUE(e.search_failed());
  e.handle(kind(KeyKind::kBackspace));
  e.handle(kind(KeyKind::kBackspace));
  EXPECT_EQ(e.search_query(), "x");
  e.handle(ctrl('g'));  // cancel: the buffer as it was
  EXPECT_FALSE(e.searching());
  EXPECT_EQ(e.text(), "");
  e.handle(ctrl('r'));
  type(e, "print");
  EXPECT_EQ(e.handle(kind(KeyKind::kEnter)), LineEditor::Action::kSubmit);
  EXPECT_EQ(e.take_submitted(), "print(x)");
}

TEST(HistoryTest, FileRoundTripWithBlocks) {
  std::string path = std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") + "/hist";
  History h;
  h.add("a = 1");
  h.add("if a:\n    print('back\\\\slash')");
  ASSERT_TRUE(h.save(path));
  History back;
  ASSERT_TRUE(back.load(path));
  EXPECT_EQ(back.entries(), h.entries());
  History missing;
  EXPECT_TRUE(missing.load(path + ".does-not-exist"));
  EXPECT_TRUE(missing.entries().empty());
  History limited(2);
  limited.add("1");
  limited.add("2");
  limited.add("3");
  EXPECT_EQ(limited.entries(), (std::vector<std::string>{"2", "3"}));
}

TEST(CompletionTest, WordsPrefixesAndApplying) {
  EXPECT_EQ(completion_word("x = asyncio.sl", 14), "asyncio.sl");
  EXPECT_EQ(completion_word("print(ab", 8), "ab");
  EXPECT_EQ(filter_completions({"sleep", "sleep", "shield", "run"}, "s"), (std::vector<std::string>{"shield", "sleep"}));
  EXPECT_EQ(common_prefix({"wait", "wait_for"}), "wait");
  History h;
  LineEditor e(&h);
  type(e, "asyncio.wa");
  EXPECT_TRUE(e.apply_completion({"asyncio.wait", "asyncio.wait_for"}).empty());
  EXPECT_EQ(e.text(), "asyncio.wait");
  EXPECT_EQ(e.apply_completion({"asyncio.wait", "asyncio.wait_for"}).size(), 2u);  // nothing to add: list
  type(e, "_");
  e.apply_completion({"asyncio.wait_for"});
  EXPECT_EQ(e.text(), "asyncio.wait_for");
}

TEST(ColourTest, SyntaxAndTracebacks) {
  EXPECT_EQ(highlight_python("for x in 'ab': print(1)  # c"),
            "\x1b[1;34mfor\x1b[0m x \x1b[1;34min\x1b[0m \x1b[32m'ab'\x1b[0m: \x1b[36mprint\x1b[0m(\x1b[33m1\x1b[0m)  "
            "\x1b[31m# c\x1b[0m");
  EXPECT_EQ(display_width(highlight_python("async def f(): return b'x'")), 26);
  // Strings: a prefix is coloured with its string, an escaped quote does not end
  // one, a triple-quoted string ends at its triple quote, an unterminated one at
  // the line's end.
  EXPECT_EQ(highlight_python("f'a\\'b' x"), "\x1b[32mf'a\\'b'\x1b[0m x");
  EXPECT_EQ(highlight_python("\"\"\"a\"b\"\"\" x"), "\x1b[32m\"\"\"a\"b\"\"\"\x1b[0m x");
  EXPECT_EQ(highlight_python("'open"), "\x1b[32m'open\x1b[0m");
  bool in = false;
  std::string tb = colour_traceback(
      "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n    1/0\nZeroDivisionError: division by zero\nafter\n", &in);
  EXPECT_EQ(tb,
            "Traceback (most recent call last):\n  File \x1b[35m\"<stdin>\"\x1b[0m, line \x1b[35m1\x1b[0m, in "
            "\x1b[35m<module>\x1b[0m\n    1/0\n\x1b[1;35mZeroDivisionError\x1b[0m:\x1b[35m division by zero\x1b[0m\nafter\n");
  EXPECT_FALSE(in);
}

// render() drawn on a screen model: what the user sees.
testing::Screen draw(const std::string& text, std::size_t cursor, int columns, RenderOptions o = RenderOptions()) {
  o.columns = columns;
  testing::Screen s(10, columns);
  s.feed(render(text, cursor, o).output);
  return s;
}

TEST(RenderTest, PromptsCursorAndWrap) {
  testing::Screen s = draw("if x:\n    y = 1", 8, 40);
  EXPECT_EQ(s.line(0), ">>> if x:");
  EXPECT_EQ(s.line(1), "...     y = 1");
  EXPECT_EQ(s.cursor_row(), 1);
  EXPECT_EQ(s.cursor_column(), 6);
  // A line longer than the terminal wraps; the cursor follows.
  testing::Screen w = draw("abcdefghijkl", 12, 10);
  EXPECT_EQ(w.line(0), ">>> abcdef");
  EXPECT_EQ(w.line(1), "ghijkl");
  EXPECT_EQ(w.cursor_row(), 1);
  EXPECT_EQ(w.cursor_column(), 6);
  // Exactly filling a row: the cursor goes to the next row.
  testing::Screen full = draw("abcdef", 6, 10);
  EXPECT_EQ(full.cursor_row(), 1);
  EXPECT_EQ(full.cursor_column(), 0);
  // Wide characters take two columns.
  testing::Screen wide = draw("\xe4\xb8\xad\xe6\x96\x87", 3, 40);
  EXPECT_EQ(wide.cursor_column(), 6);
  Rendered r = render("abcdefghijkl", 0, RenderOptions());
  EXPECT_EQ(r.cursor_row, 0);
  EXPECT_EQ(r.rows, 1);
}

TEST(RenderTest, SearchPromptAndColour) {
  RenderOptions o;
  o.search_query = "pri";
  testing::Screen s = draw("print(x)", 0, 60, o);
  EXPECT_EQ(s.line(0), "(reverse-i-search)`pri': print(x)");
  RenderOptions c;
  c.colour = true;
  testing::Screen coloured = draw("for x", 5, 40, c);
  EXPECT_EQ(coloured.line(0), ">>> for x");
  EXPECT_EQ(coloured.cursor_column(), 9);
}

}  // namespace
}  // namespace repl::editor
