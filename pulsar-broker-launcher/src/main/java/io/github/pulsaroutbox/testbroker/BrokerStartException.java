package io.github.pulsaroutbox.testbroker;

/** Thrown when the Pulsar broker cannot be started; the message says why and includes the tail of its log. */
public class BrokerStartException extends RuntimeException {

    public BrokerStartException(String message) {
        super(message);
    }

    public BrokerStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
