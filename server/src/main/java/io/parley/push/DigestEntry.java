package io.parley.push;

/**
 * One conversation of a push digest: what a user missed there while pushes could not reach them.
 *
 * @param conv the conversation id
 * @param title the conversation's name, null when it has none (a DM, an unnamed group)
 * @param count how many new messages
 * @param preview the start of the newest message, null unless previews are on
 *     ({@code push.preview_chars} &gt; 0)
 */
public record DigestEntry(long conv, String title, int count, String preview) {
  public DigestEntry {
    if (count < 1) {
      throw new IllegalArgumentException("a digest entry counts at least one message: " + count);
    }
  }
}
