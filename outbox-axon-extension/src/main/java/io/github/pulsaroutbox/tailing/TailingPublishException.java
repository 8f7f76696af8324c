package io.github.pulsaroutbox.tailing;

/**
 * A batch of the tailing processor could not be published (a send failed, or was not acknowledged in time). It fails
 * the batch: the processor's token does not advance, and the processor retries the segment from its last stored token
 * after its back-off.
 */
public class TailingPublishException extends RuntimeException {

    public TailingPublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
