package io.github.pulsaroutbox;

import org.axonframework.common.AxonConfigurationException;

/**
 * The outbox refuses to start because of how the application is set up: its message says what is wrong and why,
 * {@link #action()} what to change. Thrown while Axon's configuration starts, before anything is captured or
 * published; in Spring Boot it appears in the "APPLICATION FAILED TO START" report.
 */
public class OutboxStartupException extends AxonConfigurationException {

    private final String action;

    /**
     * @param description what is wrong and why it matters
     * @param action      what to change
     */
    public OutboxStartupException(String description, String action) {
        super("Outbox: " + description + " " + action);
        this.action = action;
    }

    /**
     * @param description what is wrong and why it matters
     * @param action      what to change
     * @param cause       the failure that revealed it
     */
    public OutboxStartupException(String description, String action, Throwable cause) {
        super("Outbox: " + description + " " + action, cause);
        this.action = action;
    }

    /** What to change so that the outbox starts. */
    public String action() {
        return action;
    }
}
