// Routes a server frame to the handler for its "type".

export function createDispatcher(handlers) {
  return (frame) => {
    const handler = Object.prototype.hasOwnProperty.call(handlers, frame.type)
      ? handlers[frame.type]
      : null;
    if (handler) {
      handler(frame);
    } else {
      // Frame types a newer server may add are ignored, not errors.
      console.debug("chat: ignored a frame of type", frame.type);
    }
  };
}
