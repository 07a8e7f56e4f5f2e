package io.parley.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the chaos clients did and saw, as plain records in arrival order: every send attempt
 * (first ones and retries), every ack and error, every message delivered to a device (live, by
 * {@code sync}, by history paging), connection events, and at the end what storage holds (read
 * back through REST history). {@link HistoryChecker} judges it; nothing here interprets anything.
 *
 * <p>Appends are synchronized (the clients run on several event loops); read the lists only once
 * recording has stopped.
 */
final class ChaosHistory {
  /** How a message reached a device. */
  enum Kind { LIVE, SYNC, PAGE }

  /** A {@code send} frame written (a retry repeats the msg_id and body of the first attempt). */
  record Send(String user, String device, String conv, String msgId, String body, long atMs, boolean retry) {
  }

  /** An {@code ack} received by the sending device. */
  record Ack(String user, String device, String conv, String msgId, long serverId, long ts, long atMs) {
  }

  /** An {@code error} frame (for a send when msgId is set, else e.g. for a sync). */
  record Rejection(String user, String device, String conv, String msgId, String code, long atMs) {
  }

  /** A message as one device got it; {@code connection} numbers the device's connections from 1. */
  record Delivery(String device, int connection, String conv, long serverId, String from, String msgId, String body,
      Kind kind, long atMs) {
  }

  /** A message as storage holds it (REST history after the run). */
  record Stored(String conv, long serverId, String from, String msgId, String body, long ts) {
  }

  /** A connection event of a device: connected, closed (by the server or a dead node), connect_failed, dropped (on purpose). */
  record Event(String device, String type, int port, long atMs) {
  }

  final List<Send> sends = new ArrayList<>();
  final List<Ack> acks = new ArrayList<>();
  final List<Rejection> rejections = new ArrayList<>();
  final List<Delivery> deliveries = new ArrayList<>();
  final List<Stored> stored = new ArrayList<>();
  final List<Event> events = new ArrayList<>();
  /** Conversation → member user ids (all members joined when the conversation was created). */
  final Map<String, List<String>> members = new LinkedHashMap<>();
  /** Device → its user. */
  final Map<String, String> deviceUser = new LinkedHashMap<>();

  synchronized void add(Send s) {
    sends.add(s);
  }

  synchronized void add(Ack a) {
    acks.add(a);
  }

  synchronized void add(Rejection r) {
    rejections.add(r);
  }

  synchronized void add(Delivery d) {
    deliveries.add(d);
  }

  synchronized void add(Stored s) {
    stored.add(s);
  }

  synchronized void add(Event e) {
    events.add(e);
  }

  synchronized void conversation(String conv, List<String> users) {
    members.put(conv, List.copyOf(users));
  }

  synchronized void device(String device, String user) {
    deviceUser.put(device, user);
  }

  /**
   * Every record, one per line in its {@code toString()} form (Send[...], Ack[...], ...), grouped by
   * kind, in arrival order within each: for reading a violation's story with grep.
   */
  synchronized void write(java.nio.file.Path file) throws java.io.IOException {
    try (java.io.BufferedWriter w = java.nio.file.Files.newBufferedWriter(file)) {
      for (List<? extends Record> list : List.of(events, sends, acks, rejections, deliveries, stored)) {
        for (Record r : list) {
          w.write(r.toString());
          w.newLine();
        }
      }
    }
  }

  /** The body of a chaos message: a tag naming sender, conversation and msg_id, padded to {@code size} chars. */
  static String body(String from, String conv, String msgId, int size) {
    StringBuilder b = new StringBuilder("chaos|").append(from).append('|').append(conv).append('|').append(msgId).append('|');
    while (b.length() < size) {
      b.append('x');
    }
    return b.toString();
  }

  /** The tag of a body made by {@link #body}: {from, conv, msgId}, or null if it carries none. */
  static String[] tag(String body) {
    if (body == null || !body.startsWith("chaos|")) {
      return null;
    }
    String[] parts = body.split("\\|", -1);
    return parts.length < 5 ? null : new String[] {parts[1], parts[2], parts[3]};
  }
}
