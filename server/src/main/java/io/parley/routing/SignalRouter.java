package io.parley.routing;

import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutBatch;
import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.presence.TypingThrottle;
import io.parley.protocol.Addresses;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ServerFrames;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The signal path both routing roles share: best-effort signals (delivered and read receipts,
 * typing) are checked against the verticle's {@link MemberSets} and handed straight to fan-out on
 * this node; they never wait behind the log. Typing goes through the {@link TypingThrottle}. Each
 * request is answered with an empty reply, or failed with an {@link ErrorCode}.
 */
final class SignalRouter {
  private final EventBus bus;
  private final MemberSets members;
  private final MessageStore messages;
  private final ConversationStore conversations;
  private final TypingThrottle typing;

  SignalRouter(EventBus bus, MemberSets members, MessageStore messages, ConversationStore conversations,
      TypingThrottle typing) {
    this.bus = bus;
    this.members = members;
    this.messages = messages;
    this.conversations = conversations;
    this.typing = typing;
  }

  void handle(Message<SignalRequest> msg) {
    SignalRequest req = msg.body();
    ClientFrame f = req.frame();
    long conv = f instanceof ClientFrame.Delivered d ? d.conv()
        : f instanceof ClientFrame.Read r ? r.conv()
        : f instanceof ClientFrame.Typing t ? t.conv() : -1;
    members.get(conv).onComplete(ar -> {
      if (ar.failed()) {
        fail(msg, ErrorCode.UNAVAILABLE, "membership unavailable");
        return;
      }
      Set<String> set = ar.result();
      if (set.isEmpty()) {
        fail(msg, ErrorCode.NOT_FOUND, "no conversation " + conv);
      } else if (!set.contains(req.user())) {
        fail(msg, ErrorCode.NOT_MEMBER, "not a member of " + conv);
      } else if (f instanceof ClientFrame.Delivered d) {
        delivered(msg, req.user(), d);
      } else if (f instanceof ClientFrame.Read r) {
        read(msg, req.user(), r, set);
      } else if (f instanceof ClientFrame.Typing t) {
        typing(msg, req.user(), t, set);
      }
    });
  }

  private void delivered(Message<SignalRequest> msg, String user, ClientFrame.Delivered d) {
    messages.get(d.conv(), d.serverId()).onComplete(ar -> {
      if (ar.failed()) {
        fail(msg, ErrorCode.UNAVAILABLE, "storage unavailable");
      } else if (ar.result().isEmpty()) {
        fail(msg, ErrorCode.NOT_FOUND, "no message " + d.serverId() + " in " + d.conv());
      } else {
        String sender = ar.result().get().from();
        if (!sender.equals(user)) {
          signal(d.conv(), ServerFrames.receipt(d.conv(), d.serverId(), user, "delivered"), List.of(sender));
        }
        msg.reply(null);
      }
    });
  }

  private void read(Message<SignalRequest> msg, String user, ClientFrame.Read r, Set<String> set) {
    conversations.markRead(user, r.conv(), r.serverId()).onComplete(ar -> {
      if (ar.failed()) {
        fail(msg, ErrorCode.UNAVAILABLE, "storage unavailable");
        return;
      }
      signal(r.conv(), ServerFrames.receipt(r.conv(), r.serverId(), user, "read"), others(set, user));
      msg.reply(null);
    });
  }

  /** Forwards a typing signal when the throttle lets it through; the sender never hears either way. */
  private void typing(Message<SignalRequest> msg, String user, ClientFrame.Typing t, Set<String> set) {
    typing.admit(user, t.conv()).onComplete(ar -> {
      if (ar.result()) {
        signal(t.conv(), ServerFrames.typing(t.conv(), user), others(set, user));
      }
      msg.reply(null);
    });
  }

  private void signal(long conv, String frame, List<String> recipients) {
    if (!recipients.isEmpty()) {
      bus.send(Addresses.FANOUT, FanoutBatch.of(new Fanout(conv, 0, null, frame, recipients, null, null)), Addresses.local());
    }
  }

  private static List<String> others(Set<String> set, String user) {
    List<String> out = new ArrayList<>(set.size());
    for (String u : set) {
      if (!u.equals(user)) {
        out.add(u);
      }
    }
    return out;
  }

  private static void fail(Message<?> msg, ErrorCode code, String text) {
    msg.fail(code.failureCode(), text);
  }
}
