package io.github.pulsaroutbox.upcasting;

/** A row could not be brought to the current version of its event type; the relay parks it. */
public class UpcastFailedException extends RuntimeException {

    public UpcastFailedException(String message) {
        super(message);
    }

    public UpcastFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
