package io.github.pulsaroutbox.tailing;

import org.axonframework.eventhandling.TrackingToken;

/**
 * Where one batch of the tailing processor is in the event stream: the position of the event at hand, whether it comes
 * late (at or below a position already handled: a commit that filled a gap of the global index), and which of several
 * events read from one stored entry (an upcaster split it) it is. Events read from one entry share its token and its
 * lateness: a late entry's every event is late, so that each gets an id above everything stored
 * ({@link TopicSequence#idFor}) and none is taken for a copy of something stored before.
 */
final class StreamCursor {

    private long position;
    private boolean late;
    private TrackingToken previousToken;
    private int sibling;

    /** @param storedPosition the position of the token the batch starts from ({@code -1}: none) */
    StreamCursor(long storedPosition) {
        this.position = storedPosition;
    }

    /** Moves to the next event, read at {@code token} ({@code null} for an event without one: late). */
    void advance(TrackingToken token) {
        long at = token == null ? -1 : token.position().orElse(-1);
        if (token != null && token.equals(previousToken)) { // several events upcast from one stored entry
            sibling++; // as late as the entry's first event
        } else {
            sibling = 0;
            late = at < 0 || at <= position;
        }
        previousToken = token;
        position = Math.max(position, at);
    }

    /** The highest position seen so far (the event's own unless it came late). */
    long position() {
        return position;
    }

    /** Whether the event at hand comes at or below a position already handled. */
    boolean late() {
        return late;
    }

    /** Which of the events read from one stored entry the event at hand is (0 for the first or only one). */
    int sibling() {
        return sibling;
    }
}
