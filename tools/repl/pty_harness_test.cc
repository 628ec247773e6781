// The screen model of the pty harness, and the harness on a real child.
#include "tools/repl/pty_harness.h"

#include "gtest/gtest.h"

namespace repl::testing {
namespace {

TEST(ScreenTest, TextWrapsAtTheLastColumnOnlyWhenMoreComes) {
  Screen s(4, 5);
  s.feed("abcde");
  EXPECT_EQ(s.line(0), "abcde");
  EXPECT_EQ(s.cursor_row(), 0);  // pending wrap
  s.feed("f");
  EXPECT_EQ(s.line(1), "f");
  EXPECT_EQ(s.cursor_row(), 1);
  EXPECT_EQ(s.cursor_column(), 1);
}

TEST(ScreenTest, CarriageReturnEraseAndCursorMoves) {
  Screen s(4, 20);
  s.feed("hello world\r\x1b[K>>> x");
  EXPECT_EQ(s.line(0), ">>> x");
  s.feed("\r\nline two\x1b[A\r\x1b[J");
  EXPECT_EQ(s.lines().size(), 0u);
  s.feed("ab\x1b[1;31mcd\x1b[0m\x1b[3D\x1b[Cz");
  EXPECT_EQ(s.line(0), "abzd");
  s.feed("\x1b[2;3Hq");
  EXPECT_EQ(s.line(1), "  q");
}

TEST(ScreenTest, ScrollsIntoTheScrollback) {
  Screen s(2, 10);
  s.feed("one\r\ntwo\r\nthree\r\n");
  EXPECT_EQ(s.text(), "one\ntwo\nthree\n");
  EXPECT_EQ(s.line(0), "three");
}

TEST(ScreenTest, UtfEightAndSplitSequences) {
  Screen s(2, 10);
  s.feed("\xc3");
  s.feed("\xa9t\x1b[");
  s.feed("1mX");
  EXPECT_EQ(s.line(0), "\xc3\xa9tX");
  EXPECT_EQ(s.cursor_column(), 3);
}

TEST(PtyProcessTest, RunsAChildOnATerminalAndReapsIt) {
  PtyProcess p({"/bin/sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty; read line; echo got:$line; exit 3"});
  ASSERT_TRUE(p.wait_for_text("on-a-tty"));
  p.send("abc\r");
  ASSERT_TRUE(p.wait_for_text("got:abc"));
  EXPECT_EQ(p.wait_exit(), 3);
}

TEST(PtyProcessTest, WaitsEndAtTheirDeadline) {
  PtyProcess p({"/bin/sh", "-c", "read line"});
  EXPECT_FALSE(p.wait_for_text("never printed", std::chrono::milliseconds(200)));
}

}  // namespace
}  // namespace repl::testing
